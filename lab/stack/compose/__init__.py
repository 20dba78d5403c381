"""The compose stack: the same lab on a real Docker engine, one Compose project per team."""

from lab.stack.compose.stack import ComposeStack, remove_orphans

__all__ = ["ComposeStack", "remove_orphans"]
