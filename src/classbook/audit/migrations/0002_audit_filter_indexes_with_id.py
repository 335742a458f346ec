"""The audit log's filter indexes end in (created_at, id), the page's whole order
(docs/decisions.md, "Office pages on a big account").

The new indexes are built with CREATE INDEX CONCURRENTLY on PostgreSQL before the old
ones are dropped with DROP INDEX CONCURRENTLY, so the log stays writable and every filter
keeps an index throughout (the migration is not atomic for that reason). If a concurrent
build fails it leaves an INVALID index: drop it and run the migration again.
"""

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class OnPostgresConcurrently:
    """The concurrent operation on PostgreSQL; the plain one elsewhere (SQLite)."""

    plain: type

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_forwards(app_label, schema_editor, from_state, to_state)
        return self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            return super().database_backwards(app_label, schema_editor, from_state, to_state)
        return self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)


class AddIndexSafely(OnPostgresConcurrently, AddIndexConcurrently):
    plain = migrations.AddIndex


class RemoveIndexSafely(OnPostgresConcurrently, RemoveIndexConcurrently):
    plain = migrations.RemoveIndex


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("audit", "0001_initial")]

    operations = [
        AddIndexSafely(
            model_name="logentry",
            index=models.Index(
                fields=["account", "actor", "-created_at", "-id"], name="audit_actor_recent"
            ),
        ),
        AddIndexSafely(
            model_name="logentry",
            index=models.Index(
                fields=["account", "action", "-created_at", "-id"], name="audit_action_recent"
            ),
        ),
        AddIndexSafely(
            model_name="logentry",
            index=models.Index(
                fields=["account", "object_type", "object_id", "-created_at", "-id"],
                name="audit_object_recent",
            ),
        ),
        RemoveIndexSafely(model_name="logentry", name="audit_actor_time"),
        RemoveIndexSafely(model_name="logentry", name="audit_action_time"),
        RemoveIndexSafely(model_name="logentry", name="audit_object_time"),
    ]
