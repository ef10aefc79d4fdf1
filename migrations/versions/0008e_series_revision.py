"""Series: ``revision``, advanced by ``app.market.store`` in the same transaction as every write that changes
one of the series' candles, so a reader can tell whether the stored bars changed from one indexed row
instead of reading them (the API's candle window, ``app/api/v1/candle_window.py``).

Existing series start at a random number, as new ones do (``app.models.market.random_revision``), so a
recreated database never repeats an old (id, revision) that a cache may still hold with other bars.

(Database triggers on ``candles`` were tried first: statement-level ones with transition tables made the
COPY backfill of 1,000,000 bars 36 % slower, ``bench/ingest.py``; the store is the only writer of candles.)

Revision ID: 0008e_series_revision
Revises: 0008d_password_change
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa

revision = "0008e_series_revision"
down_revision = "0008d_password_change"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE series SET revision = floor(random() * 4503599627370496)::bigint")
    else:
        op.execute("UPDATE series SET revision = abs(random()) % 4503599627370496")


def downgrade():
    with op.batch_alter_table("series") as batch:
        batch.drop_column("revision")
