"""Durable timeline storage (append-only JSONL, fsynced) and, later, observers."""
