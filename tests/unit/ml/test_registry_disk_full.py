"""ml/registry.py on a full disk (an injected ENOSPC): a clear error, no version and no temporary left behind,
and the champion pointer keeps its old value."""
import errno
import json
from types import SimpleNamespace

import pytest

from ml.registry import Registry


class _Model:
    def __init__(self, fail: bool):
        self.fail = fail

    def save(self, path):
        with open(path, "wb") as fh:
            fh.write(b"half a model")
        if self.fail:
            raise OSError(errno.ENOSPC, "No space left on device")


def _trained(fail: bool):
    return SimpleNamespace(model=_Model(fail), members=(), meta=lambda: {"config": {}})


def test_a_full_disk_while_saving_raises_a_clear_error_and_leaves_no_version(tmp_path):
    reg = Registry(tmp_path)
    with pytest.raises(OSError, match="model directory .* is full .*nothing was stored") as err:
        reg.save("BTC/USDT", "1h", _trained(fail=True))
    assert err.value.errno == errno.ENOSPC
    assert list((tmp_path / "BTC-USDT" / "1h").iterdir()) == []  # no vN, no .v* temporary
    assert reg.versions("BTC/USDT", "1h") == []


def test_a_full_disk_while_promoting_keeps_the_old_champion_pointer(tmp_path, monkeypatch):
    reg = Registry(tmp_path)
    reg.save("BTC/USDT", "1h", _trained(fail=False))
    reg.save("BTC/USDT", "1h", _trained(fail=False))
    reg.promote("BTC/USDT", "1h", 1)
    pointer = tmp_path / "BTC-USDT" / "1h" / "champion.json"
    before = pointer.read_text()

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(type(pointer), "write_text", full)
    with pytest.raises(OSError):
        reg.promote("BTC/USDT", "1h", 2)
    monkeypatch.undo()
    assert pointer.read_text() == before and json.loads(before)["version"] == 1
    assert not (tmp_path / "BTC-USDT" / "1h" / "champion.tmp").exists()


def test_the_sweep_removes_what_a_killed_save_left_and_nothing_else(tmp_path):
    """A SIGKILL mid-save skips the clean-up: the ``.v*`` directory stays until it is old enough that no save
    can still be writing it; versions, the champion pointer and fresh temporaries are left alone."""
    import os

    reg = Registry(tmp_path)
    reg.save("BTC/USDT", "1h", _trained(fail=False))
    base = tmp_path / "BTC-USDT" / "1h"
    old, fresh = base / ".vkilled", base / ".vsaving"
    for d in (old, fresh):
        (d / "members").mkdir(parents=True)
        (d / "model.keras").write_bytes(b"half")
    now = os.stat(fresh).st_mtime + 10
    os.utime(old, (now - 7 * 3600, now - 7 * 3600))
    os.utime(base / "v1", (now - 30 * 86400, now - 30 * 86400))
    assert reg.remove_abandoned(now=now) == ["BTC-USDT/1h/.vkilled"]
    assert not old.exists() and fresh.is_dir() and (base / "v1" / "meta.json").is_file()
    assert [v.version for v in reg.versions("BTC/USDT", "1h")] == [1]
    assert Registry(tmp_path / "missing").remove_abandoned() == []
