"""Install the host runtime: a new version beside the old, then one switch of `current`."""

from __future__ import annotations

import hashlib
from collections.abc import Generator
from io import BytesIO, StringIO
from typing import Any

from pyinfra.api.command import FileUploadCommand, StringCommand
from pyinfra.api.operation import operation
from pyinfra.context import host

from dr.paths import CURRENT, LIBRARY
from roles.dr_runtime.facts import InstalledRuntime
from roles.dr_runtime.plan import VERSIONS, Runtime


@operation()
def installed(runtime: Runtime) -> Generator[Any, None, None]:
    """Make `runtime` the host's runtime, replacing the previous version as a whole.

    + runtime: the package (`roles.dr_runtime.plan.runtime()`)

    The archive is unpacked into versions/<version>, the commands are written,
    then `current` points at the new version in one rename, and older
    versions go. A running job keeps the files it opened; the next run uses
    the new version.

        installed(name="bimkit host runtime", runtime=runtime())
    """
    found = host.get_fact(InstalledRuntime, commands=sorted(runtime.commands))
    wanted = {
        path: hashlib.sha256(text.encode()).hexdigest() for path, text in runtime.commands.items()
    }
    if found.get("version") == runtime.version and all(
        found.get(path) == digest for path, digest in wanted.items()
    ):
        host.noop(f"bimkit host runtime {runtime.version} is installed")
        return
    target = f"{VERSIONS}/{runtime.version}"
    upload = f"{LIBRARY}/.upload-{runtime.version}.tar.gz"
    yield StringCommand("install", "-d", "-m", "755", VERSIONS)
    yield FileUploadCommand(BytesIO(runtime.archive), upload)
    yield StringCommand(
        f"rm -rf {target}.new && mkdir -p {target}.new && tar -xzf {upload} -C {target}.new "
        f"&& rm -rf {target} && mv {target}.new {target} && rm -f {upload}"
    )
    for path, text in sorted(runtime.commands.items()):
        yield FileUploadCommand(StringIO(text), path)
        yield StringCommand("chmod", "755", path)
    # The switch is one rename: a job starting now sees the old or the new version, whole.
    yield StringCommand(f"ln -sfn {target} {CURRENT}.new && mv -T {CURRENT}.new {CURRENT}")
    yield StringCommand(f'for old in {VERSIONS}/*; do [ "$old" = {target} ] || rm -rf "$old"; done')
