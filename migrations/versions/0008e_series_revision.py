"""Series: ``revision``, a number the database advances whenever one of the series' candles is inserted,
updated or deleted, in the same transaction (triggers on ``candles``), so a reader can tell whether the
stored bars changed from one indexed row instead of reading them.

PostgreSQL: three statement-level triggers with transition tables (one ``UPDATE series`` per statement, so a
COPY of a whole backfill bumps each series once); the touched series rows are locked in id order first, so
two writers of several series cannot deadlock on them. SQLite: row-level triggers (it has no other kind).
Existing series start at a random number, as new ones do (``app.models.market.random_revision``), so a
recreated database never repeats an old (id, revision) that a cache may still hold with other bars.

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

PG_FUNCTION = """
CREATE FUNCTION candles_bump_series_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM 1 FROM series WHERE id IN (SELECT series_id FROM old_rows) ORDER BY id FOR UPDATE;
        UPDATE series SET revision = revision + 1 WHERE id IN (SELECT series_id FROM old_rows);
    ELSE
        PERFORM 1 FROM series WHERE id IN (SELECT series_id FROM new_rows) ORDER BY id FOR UPDATE;
        UPDATE series SET revision = revision + 1 WHERE id IN (SELECT series_id FROM new_rows);
    END IF;
    RETURN NULL;
END
$$
"""
PG_TRIGGERS = {
    "candles_revision_ins": "AFTER INSERT ON candles REFERENCING NEW TABLE AS new_rows",
    "candles_revision_upd": "AFTER UPDATE ON candles REFERENCING NEW TABLE AS new_rows",
    "candles_revision_del": "AFTER DELETE ON candles REFERENCING OLD TABLE AS old_rows",
}
SQLITE_TRIGGERS = {
    "candles_revision_ins": ("AFTER INSERT ON candles", "NEW"),
    "candles_revision_upd": ("AFTER UPDATE ON candles", "NEW"),
    "candles_revision_del": ("AFTER DELETE ON candles", "OLD"),
}


def upgrade():
    with op.batch_alter_table("series") as batch:
        batch.add_column(sa.Column("revision", sa.BigInteger(), nullable=False, server_default="0"))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE series SET revision = floor(random() * 4503599627370496)::bigint")
        op.execute(PG_FUNCTION)
        for name, when in PG_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} FOR EACH STATEMENT "
                       "EXECUTE FUNCTION candles_bump_series_revision()")
    else:
        op.execute("UPDATE series SET revision = abs(random()) % 4503599627370496")
        for name, (when, row) in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN "
                       f"UPDATE series SET revision = revision + 1 WHERE id = {row}.series_id; END")


def downgrade():
    for name in PG_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON candles" if op.get_bind().dialect.name == "postgresql"
                   else f"DROP TRIGGER IF EXISTS {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS candles_bump_series_revision()")
    with op.batch_alter_table("series") as batch:
        batch.drop_column("revision")
