"""Layer health: one row per run, collection step and layer (gradient norm, update ratio, dead
or saturated units, activation statistics; percentiles and histograms as JSON).

Revision ID: r0002
Revises: r0001
"""

import sqlalchemy as sa
from alembic import op

revision = "r0002"
down_revision = "r0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "health",
        sa.Column("run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("step", sa.Integer, primary_key=True),  # the run's global step
        sa.Column("layer", sa.Integer, primary_key=True),  # 0: the first linear layer
        sa.Column("epoch", sa.Float, nullable=False),  # fractional: epoch − 1 + step / steps per epoch
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("grad_norm", sa.Float),
        sa.Column("weight_norm", sa.Float),
        sa.Column("update_ratio", sa.Float),
        sa.Column("act_mean", sa.Float),
        sa.Column("act_std", sa.Float),
        sa.Column("dead", sa.Float),  # ReLU units never active on the probe batch (hidden layers)
        sa.Column("saturated", sa.Float),  # sigmoid/tanh outputs saturated (hidden layers)
        sa.Column(
            "warnings", sa.Text, nullable=False, server_default=""
        ),  # the warnings naming this layer, one per line
        sa.Column("detail", sa.Text, nullable=False, server_default="{}"),  # JSON: percentiles, histograms
    )


def downgrade() -> None:
    op.drop_table("health")
