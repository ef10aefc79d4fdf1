"""The model directory fills up mid-save (a 32 KiB tmpfs): the training job fails with a clear error,
no version (or half-written temporary directory) is left in place, and the champion pointer is untouched."""
from __future__ import annotations

import os

import pytest

from tests.faults.conftest import child_env, migrated, tiny_tmpfs, wait_for

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]
TINY = {"lookback": 8, "units": 8, "epochs": 2, "batch_size": 64, "patience": 1}


@pytest.fixture
def full_disk(tmp_path):
    """A 32 KiB tmpfs for the model directory."""
    with tiny_tmpfs(tmp_path / "models") as target:
        yield target


def test_training_onto_a_full_model_directory_fails_clearly_and_leaves_nothing(full_disk, fresh_pg_url, redis_url,
                                                                              workers):
    from app.extensions import db
    from app.market.seed import seed_demo
    from tests.conftest import dispose
    from workers.queues import enqueue, fetch_job

    server = migrated(fresh_pg_url, redis_url, model_dir=str(full_disk))
    with server.app_context():
        seed_demo(db.session.connection(), server.config["CW_SETTINGS"])
        db.session.commit()
        ref = enqueue("ml", "workers.ml.train", "demo", "BTC/USDT", "5m", TINY, 2)
    workers(child_env(redis_url, fresh_pg_url, MODEL_DIR=str(full_disk)), "ml")
    with server.app_context():
        job = wait_for(lambda: (j := fetch_job(ref.id)) is not None and j.done and j, 240, 0.5, what="training")
    assert job.status == "failed"
    assert "model directory" in job.error and "no space left" in job.error.lower(), job.error
    assert "nothing was stored" in job.error
    from ml.registry import slug

    series = full_disk / slug("BTC/USDT") / "5m"
    assert series.is_dir()  # the save got as far as its directory before the disk filled up
    left = sorted(p.name for p in series.iterdir())
    assert left == [], left  # neither a version nor a half-written temporary directory
    assert not any(name.endswith(".tmp") for _, _, files in os.walk(full_disk) for name in files)
    dispose(server)
