"""`gameday images list` for scripts: piped, one whole tab-separated line per image; --json matches
its schema (lab/schemas/images.json) and says every image the stack needs is here."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

import lab


def test_images_list_piped_and_as_json(gameday, compose_images, docker_engine):
    listed = gameday("images", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    schema = json.loads((Path(lab.__file__).parent / "schemas" / "images.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(rows)
    assert {r["variable"]: r["image"] for r in rows if r["present"]} == compose_images
    piped = gameday("images", "list")
    lines = [line.split("\t") for line in piped.stdout.splitlines()]
    assert [(v, i) for v, i, _ in lines] == [(r["variable"], r["image"]) for r in rows]
