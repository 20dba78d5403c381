"""`gameday images build`: the container kinds' images, made on this machine.

    --offline:  debootstrap (host's Debian mirror) ─▶ import gameday-lab/base:<hash>
                pip wheel on the host ─▶ docker/wheels/ in the build context (no index in the build)
                base ─▶ docker/db.Dockerfile ─▶ gameday-lab/db     base ─▶ docker/lab.Dockerfile ─▶ gameday-lab/lab
    default:    the public bases (python:3.11-slim, debian:bookworm-slim) ─▶ the same Dockerfiles

Every tag is a content hash of the image's build inputs, so an image is built once per machine
and input and reused after that (`--force` rebuilds); the choice goes to lab/stack/images.py.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lab.errors import MissingDependencyError, StackError, UsageError
from lab.stack.base import Progress, no_progress
from lab.stack.debian_mirror import (
    DEBOOTSTRAP_VARIANT,
    TRIMMED,
    finish_rootfs,
    host_apt_settings,
    host_codename,
    host_sources,
)
from lab.stack.images import NAMESPACE, PUBLIC, present, repo_root, write_choice
from lab.stack.postgres import cache_root

FORMAT = "1"  # bump to rebuild every image on every machine
PUBLIC_BASES = {"PYTHON_IMAGE": "python:3.11-slim", "BASE_IMAGE": "debian:bookworm-slim"}


@dataclass
class Outcome:
    """What `images build` did for one image."""

    image: str
    built: bool
    seconds: float
    size_mb: float | None = None


@dataclass
class BuildReport:
    images: dict[str, str]
    outcomes: list[Outcome] = field(default_factory=list)
    env_file: Path | None = None
    seconds: float = 0.0


class Builder:
    """Builds (or finds) the images; every tag is a hash of what went into it."""

    def __init__(self, client, progress: Progress = lambda _m: None, force: bool = False):  # type: ignore[no-untyped-def]
        self.client = client
        self.progress = progress
        self.force = force
        self.root = repo_root()
        self.outcomes: list[Outcome] = []
        self.log = cache_root() / "images-build.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)

    # --- the debootstrapped base

    def base(self) -> str:
        codename = host_codename()
        sources = host_sources(codename)
        mirror = next(s.uri for s in sources if s.suite == codename)
        apt_settings = host_apt_settings()
        sources_text = "".join(f"deb {s.uri} {s.suite} main\n" for s in sources)
        digest = _digest([FORMAT, "base", codename, mirror, DEBOOTSTRAP_VARIANT, sources_text, apt_settings,
                          ",".join(TRIMMED)])
        tag = f"{NAMESPACE}/base:{digest}"
        if not self.force and present(self.client, tag):
            self._reused(tag)
            return tag
        if shutil.which("debootstrap") is None:
            raise MissingDependencyError(
                "debootstrap is not installed; `apt-get install debootstrap` (scripts/bootstrap.sh installs it "
                "when a Docker engine answers)")
        if os.geteuid() != 0:
            raise UsageError("building the base image runs debootstrap, which needs root; run it as root")
        started = time.monotonic()
        work = Path(tempfile.mkdtemp(prefix="base-", dir=cache_root()))
        try:
            rootfs = work / "rootfs"
            self.progress(f"debootstrap {codename} from {mirror} (a minute or two) ...")
            self._run(["debootstrap", f"--variant={DEBOOTSTRAP_VARIANT}", codename, str(rootfs), mirror],
                      "debootstrap")
            finish_rootfs(rootfs, sources_text, apt_settings)
            archive = work / "rootfs.tar"
            self._run(["tar", "--numeric-owner", "-C", str(rootfs), "-cf", str(archive), "."], "tar")
            self.progress("importing the base image ...")
            self.client.api.import_image_from_file(
                str(archive), repository=f"{NAMESPACE}/base", tag=digest,
                changes=["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                         "ENV LANG=C.UTF-8", 'CMD ["bash"]',
                         f"LABEL io.gameday-lab.image=base io.gameday-lab.inputs={digest}"])
        finally:
            shutil.rmtree(work, ignore_errors=True)
        if not present(self.client, tag):
            raise StackError(f"importing {tag} failed; see {self.log}")
        self._built(tag, started)
        return tag

    # --- wheels for a build without a package index

    def wheels(self) -> list[Path]:
        requirements = self.root / "docker" / "lab-requirements.txt"
        digest = _digest([FORMAT, sys.version.split()[0], requirements.read_text()])
        where = cache_root() / f"wheels-{digest}"
        if not (where / ".complete").exists():
            self.progress("building wheels on the host (pip wheel) ...")
            shutil.rmtree(where, ignore_errors=True)
            where.mkdir(parents=True)
            self._run([sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(where),
                       "-r", str(requirements)], "pip wheel")
            (where / ".complete").write_text("")
        return sorted(where.glob("*.whl"))

    # --- Dockerfile builds

    def build(self, name: str, dockerfile: str, files: list[str], buildargs: dict[str, str],
              target: str | None = None, extra: dict[str, Path] | None = None) -> str:
        """Build `dockerfile` with exactly `files` (repo-relative) and `extra` (arcname: path) as
        its context; reuse the image when one with the same inputs exists."""
        members = {rel: self.root / rel for rel in [dockerfile, *files]}
        members.update(extra or {})
        args_key = {k: self._image_id(v) if k in ("BASE_IMAGE", "PYTHON_IMAGE") else v for k, v in buildargs.items()}
        digest = _digest([FORMAT, name, target or "", repr(sorted(args_key.items())),
                          *(f"{arc}:{_file_digest(path)}:{_mode(path)}" for arc, path in sorted(members.items()))])
        tag = f"{NAMESPACE}/{name}:{digest}"
        if not self.force and present(self.client, tag):
            self._reused(tag)
            return tag
        started = time.monotonic()
        self.progress(f"building {tag} ...")
        context = _context(members)
        stream = self.client.api.build(
            fileobj=context, custom_context=True, tag=tag, dockerfile=dockerfile, buildargs=buildargs,
            target=target, rm=True, forcerm=True, pull=False, network_mode="host", decode=True,
            labels={"io.gameday-lab.image": name, "io.gameday-lab.inputs": digest},
        )
        tail: list[str] = []
        with open(self.log, "a") as log:
            log.write(f"\n=== {tag} ({time.strftime('%Y-%m-%d %H:%M:%S')})\n")
            for chunk in stream:
                text = chunk.get("stream") or chunk.get("status") or ""
                if text:
                    log.write(text if text.endswith("\n") else text + "\n")
                    tail = (tail + text.rstrip().splitlines())[-15:]
                    if text.startswith("Step "):
                        self.progress(f"{name}: {text.strip()[:100]}")
                if "error" in chunk:
                    detail = chunk.get("error", "").strip()
                    raise StackError(f"building {name} failed: {detail}; last lines (full log {self.log}):\n"
                                     + "\n".join(tail))
        self._built(tag, started)
        return tag

    def prune(self) -> None:
        """Remove this machine's older builds of the lab's images (other input hashes), unless a
        container still uses them; the images just built or reused stay."""
        import docker.errors

        keep = {out.image for out in self.outcomes}
        for image in self.client.images.list(name=f"{NAMESPACE}/*"):
            for tag in image.tags:
                if tag in keep or tag.endswith(":latest") or not tag.startswith(f"{NAMESPACE}/"):
                    continue
                try:
                    self.client.images.remove(tag, noprune=False)
                except docker.errors.APIError:  # in use by a container: it stays
                    pass

    def tag_latest(self, tag: str, name: str) -> None:
        self.client.images.get(tag).tag(f"{NAMESPACE}/{name}", "latest")

    # --- helpers

    def _image_id(self, name: str) -> str:
        try:
            return str(self.client.images.get(name).id)
        except Exception:  # not present yet (a public base): the name stands for it
            return name

    def _run(self, argv: list[str], what: str) -> None:
        with open(self.log, "a") as log:
            log.write(f"\n=== {' '.join(argv)}\n")
            log.flush()
            proc = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if proc.returncode != 0:
            lines = self.log.read_text(errors="replace").splitlines()[-12:]
            raise StackError(f"{what} failed (exit {proc.returncode}); last lines (full log {self.log}):\n"
                             + "\n".join(lines))

    def _size_mb(self, tag: str) -> float | None:
        try:
            return round(float(self.client.images.get(tag).attrs["Size"]) / 1e6, 1)
        except Exception:
            return None

    def _reused(self, tag: str) -> None:
        self.outcomes.append(Outcome(tag, False, 0.0, self._size_mb(tag)))

    def _built(self, tag: str, started: float) -> None:
        self.outcomes.append(Outcome(tag, True, round(time.monotonic() - started, 1), self._size_mb(tag)))


def lab_image_files(root: Path) -> list[str]:
    """What docker/lab.Dockerfile copies: the lab (its proxy, and the fault watchdog of a compose
    stack), Arcade, the load generator."""
    files = ["docker/lab-requirements.txt", "docker/lab/http-ok", "docker/lab/toxiproxy", "docker/lab/toxiproxy-cli"]
    for package in ("lab", "services/web/arcade", "services/loadgen/loadgen"):
        for path in sorted((root / package).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix not in (".pyc", ".pyo"):
                files.append(str(path.relative_to(root)))
    return files


DB_FILES = ["docker/db/docker-entrypoint.sh", "docker/pgbouncer/entrypoint.sh"]


def build_offline(client: Any, progress: Progress = no_progress, force: bool = False) -> BuildReport:
    """Every image from the host's Debian mirror and host-built wheels; no registry needed."""
    started = time.monotonic()
    builder = Builder(client, progress, force)
    base = builder.base()
    db = builder.build("db", "docker/db.Dockerfile", DB_FILES, {"BASE_IMAGE": base}, target="db")
    wheels = builder.wheels()
    lab = builder.build("lab", "docker/lab.Dockerfile", lab_image_files(builder.root), {"PYTHON_IMAGE": base},
                        extra={f"docker/wheels/{w.name}": w for w in wheels})
    images = {"LAB_DB_IMAGE": db, "LAB_TOXIPROXY_IMAGE": lab, "LAB_IMAGE": lab, "LAB_PGBOUNCER_IMAGE": db}
    env_file = write_choice(images)
    builder.prune()
    return BuildReport(images, builder.outcomes, env_file, round(time.monotonic() - started, 1))


def build_public(client: Any, progress: Progress = no_progress, force: bool = False) -> BuildReport:
    """Pull the official images and build the lab's from the public Python and Debian images;
    the lab's own proxy stands in for Toxiproxy when its image cannot be pulled."""
    import docker.errors

    started = time.monotonic()
    builder = Builder(client, progress, force)
    images = dict(PUBLIC)
    for var in ("LAB_DB_IMAGE", "LAB_TOXIPROXY_IMAGE"):
        name = PUBLIC[var]
        if present(client, name) and not force:
            builder._reused(name)
            continue
        progress(f"pulling {name} ...")
        pulled = time.monotonic()
        try:
            client.images.pull(name)
            builder._built(name, pulled)
        except docker.errors.APIError as exc:
            if var == "LAB_DB_IMAGE":
                raise StackError(f"cannot pull {name} ({_first_line(exc)}); "
                                 "`gameday images build --offline` builds every image here instead") from None
            progress(f"cannot pull {name}; the lab's own proxy stands in for Toxiproxy")
            images[var] = "lab"
    lab = builder.build("lab", "docker/lab.Dockerfile", lab_image_files(builder.root),
                        {"PYTHON_IMAGE": PUBLIC_BASES["PYTHON_IMAGE"]})
    pgbouncer = builder.build("pgbouncer", "docker/db.Dockerfile", DB_FILES,
                              {"BASE_IMAGE": PUBLIC_BASES["BASE_IMAGE"]}, target="pgbouncer")
    builder.tag_latest(lab, "lab")
    builder.tag_latest(pgbouncer, "pgbouncer")
    images.update(LAB_IMAGE=lab, LAB_PGBOUNCER_IMAGE=pgbouncer)
    if images["LAB_TOXIPROXY_IMAGE"] == "lab":
        images["LAB_TOXIPROXY_IMAGE"] = lab
    env_file = write_choice(images)
    builder.prune()
    return BuildReport(images, builder.outcomes, env_file, round(time.monotonic() - started, 1))


def _context(members: dict[str, Path]) -> io.BytesIO:
    """A tar of exactly these files (arcname -> path), with stable metadata."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dirs: set[str] = set()
        for arcname, path in sorted(members.items()):
            parts = arcname.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                d = "/".join(parts[:i])
                if d not in dirs:
                    dirs.add(d)
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
            info = tarfile.TarInfo(arcname)
            data = path.read_bytes()
            info.size, info.mode = len(data), _mode(path)
            tar.addfile(info, io.BytesIO(data))
        if "docker/wheels" not in dirs:  # COPY docker/wheels/ needs the folder, even empty
            info = tarfile.TarInfo("docker/wheels")
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
    buf.seek(0)
    return buf


def _mode(path: Path) -> int:
    return 0o755 if os.access(path, os.X_OK) else 0o644


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _digest(parts: list[str]) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:12]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
