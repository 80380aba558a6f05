"""Alembic's environment for the run store: migrations run on the connection the store hands in."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, version_table="runstore_version", render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
