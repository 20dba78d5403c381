"""What a compose stack writes under its run dir for Compose to read, and reads back.

    secrets.json    the database's two passwords (0600), made once and kept with its volume
    compose.env     every variable of docker-compose.yml for this stack (0600; also what
                    `down` after a crash is given)
    arcade.env      Arcade's settings, the web service's env_file
    toxiproxy.json  the links the proxy creates at start

The image check is here too: which images the stack's config needs, and whether they are present.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any

from lab.errors import MissingDependencyError, StackError
from lab.stack import images as image_choice
from lab.stack.compose.env import arcade_env, compose_env, env_file_text, proxy_links
from lab.stack.config import StackConfig
from lab.stack.files import write_atomic
from lab.stack.scram import scram_secret
from lab.stack.state import StackState


class RunFiles:
    """The files of one compose stack's run dir."""

    def __init__(self, name: str, run_dir: Path):
        self.name = name
        self.run_dir = run_dir

    def check_images(self, client: Any, config: StackConfig) -> dict[str, str]:
        wanted = image_choice.chosen()
        needed = {"LAB_DB_IMAGE", "LAB_TOXIPROXY_IMAGE", "LAB_IMAGE"}
        if config.pooler.enabled:
            needed.add("LAB_PGBOUNCER_IMAGE")
        missing = [f"{var}={wanted[var]}" for var in sorted(needed) if not image_choice.present(client, wanted[var])]
        if missing:
            raise MissingDependencyError(
                f"images not present here: {', '.join(missing)}; `gameday images build` pulls and builds them "
                "(`gameday images build --offline` where no registry answers)")
        return wanted

    def recorded_images(self) -> dict[str, str]:
        env = self.read_env_file()
        return {var: env.get(var) or image_choice.chosen()[var] for var in image_choice.VARIABLES}

    def secrets(self, volume_exists: bool) -> dict[str, str]:
        """The two passwords of this stack's database, made once and kept with its volume."""
        path = self.run_dir / "secrets.json"
        if path.exists() and volume_exists:
            return self.load_secrets()
        app_password = secrets.token_urlsafe(18)
        creds = {"superuser_password": secrets.token_urlsafe(18), "app_password": app_password,
                 "app_scram": scram_secret(app_password, os.urandom(16))}
        write_atomic(path, json.dumps(creds), mode=0o600)
        return creds

    def load_secrets(self) -> dict[str, str]:
        try:
            return json.loads((self.run_dir / "secrets.json").read_text())  # type: ignore[no-any-return]
        except (OSError, ValueError):
            raise StackError(f"{self.run_dir / 'secrets.json'}: missing or unreadable; "
                             f"`gameday down --name {self.name}` and up again") from None

    def write(self, state: StackState, images: dict[str, str]) -> dict[str, str]:
        """compose.env (0600), arcade.env, toxiproxy.json and the feature switches from the state;
        return the variables."""
        config = StackConfig.model_validate(state.config)
        chosen = {name: svc.port for name, svc in state.services.items()}
        chosen["proxy.listen"] = int(state.services["proxy"].extra["listen_port"])
        env = compose_env(self.name, self.run_dir, config, chosen, self.load_secrets(), images)
        write_atomic(self.run_dir / "compose.env", env_file_text(env), mode=0o600)
        write_atomic(self.run_dir / "arcade.env", env_file_text(arcade_env(config)), mode=0o600)
        write_atomic(self.run_dir / "toxiproxy.json", json.dumps(proxy_links("pooler" in state.services), indent=2),
                     mode=0o644)
        return env

    def read_env_file(self) -> dict[str, str]:
        try:
            lines = (self.run_dir / "compose.env").read_text().splitlines()
        except OSError:
            return {}
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def env(self) -> dict[str, str]:
        """The variables of the last up, or placeholders good enough for `down` after a crash."""
        env = self.read_env_file()
        if not env:
            env = {"LAB_DB_SUPERUSER_PASSWORD": "unused", "LAB_ARCADE_DB_PASSWORD": "unused",
                   "LAB_STACK": self.name, "LAB_RUN_DIR": str(self.run_dir), **image_choice.chosen()}
        return env
