"""The run store's first schema: runs and their per-epoch metrics.

Revision ID: r0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "r0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.Text, nullable=False, server_default=""),
        sa.Column("tags", sa.Text, nullable=False, server_default=""),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("source", sa.Text, nullable=False, server_default=""),  # gui | cli | sweep
        sa.Column("dataset_name", sa.Text, nullable=False, server_default=""),
        sa.Column("dataset_path", sa.Text, nullable=False, server_default=""),
        sa.Column("dataset_fingerprint", sa.Text, nullable=False, server_default=""),
        sa.Column("split_seed", sa.Integer),
        sa.Column("config", sa.Text, nullable=False),  # JSON: every effective hyperparameter
        sa.Column("versions", sa.Text, nullable=False, server_default="{}"),  # JSON
        sa.Column("sweep", sa.Text),
        sa.Column("trial", sa.Integer),
        sa.Column("started", sa.Float, nullable=False),
        sa.Column("ended", sa.Float),
        sa.Column("heartbeat", sa.Float),
        sa.Column("host", sa.Text, nullable=False, server_default=""),
        sa.Column("pid", sa.Integer),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("message", sa.Text, nullable=False, server_default=""),
        sa.Column("epochs_done", sa.Integer, nullable=False, server_default="0"),
        sa.Column("train_loss", sa.Float),
        sa.Column("train_acc", sa.Float),
        sa.Column("val_loss", sa.Float),
        sa.Column("val_acc", sa.Float),
        sa.Column("best_val_acc", sa.Float),
        sa.Column("best_epoch", sa.Integer),
        sa.Column("test_acc", sa.Float),
        sa.Column("test_acc_at_best", sa.Float),
        sa.Column("wall_time", sa.Float),
        sa.Column("steps", sa.Text, nullable=False, server_default="[]"),  # JSON [[step, loss], ...] <= 2000
        sa.Column("best_checkpoint", sa.Text, nullable=False, server_default=""),
        sa.Column("final_checkpoint", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("runs_status", "runs", ["status"])
    op.create_index("runs_sweep", "runs", ["sweep"])
    op.create_table(
        "epochs",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("epoch", sa.Integer, primary_key=True),
        sa.Column("train_loss", sa.Float),
        sa.Column("train_acc", sa.Float),
        sa.Column("val_loss", sa.Float),
        sa.Column("val_acc", sa.Float),
    )


def downgrade() -> None:
    op.drop_table("epochs")
    op.drop_table("runs")
