"""Indexes for summing allocations per entry within an account (docs/decisions.md,
"Office pages on a big account").

Built with CREATE INDEX CONCURRENTLY on PostgreSQL, so a big ``ledger_allocation`` stays
writable while they build (the migration is not atomic for that reason); a plain CREATE
INDEX elsewhere. If a concurrent build fails it leaves an INVALID index: drop it and run
the migration again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class AddIndexConcurrentlyOnPostgres(AddIndexConcurrently):
    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_forwards(
            self, app_label, schema_editor, from_state, to_state
        )

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return migrations.AddIndex.database_backwards(
            self, app_label, schema_editor, from_state, to_state
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("ledger", "0003_statementrun_statementdelivery")]

    operations = [
        AddIndexConcurrentlyOnPostgres(
            model_name="allocation",
            index=models.Index(fields=["account", "source"], name="allocation_account_source"),
        ),
        AddIndexConcurrentlyOnPostgres(
            model_name="allocation",
            index=models.Index(fields=["account", "target"], name="allocation_account_target"),
        ),
    ]
