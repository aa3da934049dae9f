"""Every change the dashboard's cache depends on leaves a row in reviews_portfoliochange,
written by triggers in the same transaction (reviews.models.PortfolioChange).

Each watched table names where its rows' workload is (or none: a change for every workload),
the kind of change, and on UPDATE which columns matter (all when none are named). Existing
workloads start with one change of each kind per slice, so that their slices are known.
"""

import secrets

from django.db import migrations, models

# table: (the column holding the workload's id, or None; kind; the columns whose UPDATE counts)
WATCHED = {
    "reviews_workload": ("id", "w", ()),
    "reviews_workloadmember": ("workload_id", "w", ()),
    "reviews_workloadteamshare": ("workload_id", "w", ()),
    "reviews_lensreview": ("workload_id", "r", ()),
    "people_team": (None, "w", ("name", "name_key")),
    "people_teammember": (None, "w", ()),
    "people_profile": (None, "w", ("is_portfolio_viewer",)),
    "auth_user": (None, "w", ("username", "is_active")),
}
SLICE = 500  # reviews.dashboard.SLICE when this migration was written


def _postgresql(table, column, kind, columns):
    function = f"{table}_portfolio_change"
    of = f" OF {', '.join(columns)}" if columns else ""
    if column is None:
        body = f"INSERT INTO reviews_portfoliochange (workload_id, kind) VALUES (NULL, '{kind}');"
    else:
        body = f"""IF TG_OP = 'DELETE' THEN
                INSERT INTO reviews_portfoliochange (workload_id, kind) VALUES (OLD.{column}, '{kind}');
            ELSE
                INSERT INTO reviews_portfoliochange (workload_id, kind) VALUES (NEW.{column}, '{kind}');
            END IF;"""
    return [
        f"""CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            {body}
            RETURN NULL;
        END $$""",
        f"""CREATE TRIGGER {function} AFTER INSERT OR DELETE OR UPDATE{of} ON {table}
        FOR EACH ROW EXECUTE FUNCTION {function}()""",
    ]


def _sqlite(table, column, kind, columns):
    statements = []
    for event, row in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "NEW")):
        of = f" OF {', '.join(columns)}" if event == "UPDATE" and columns else ""
        workload = f"{row}.{column}" if column else "NULL"
        statements.append(
            f"""CREATE TRIGGER {table}_portfolio_{event.lower()} AFTER {event}{of} ON {table}
            BEGIN
                INSERT INTO reviews_portfoliochange (workload_id, kind) VALUES ({workload}, '{kind}');
            END"""
        )
    return statements


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    make = _postgresql if vendor == "postgresql" else _sqlite
    for table, (column, kind, columns) in WATCHED.items():
        for statement in make(table, column, kind, columns):
            schema_editor.execute(statement)
    for table, column, kind in (
        ("reviews_workload", "id", "w"),
        ("reviews_lensreview", "workload_id", "r"),
    ):
        schema_editor.execute(
            f"""INSERT INTO reviews_portfoliostamp (part, kind, changes)
            SELECT DISTINCT {column} / {SLICE}, '{kind}', 1 FROM {table}"""
        )
    # The changes for everyone start from a number of this database's own: a cache that
    # outlives its database (one dropped and created again under a shared Redis) holds no
    # entry under the new one's stamps.
    schema_editor.execute(
        "INSERT INTO reviews_portfoliostamp (part, kind, changes) VALUES (-1, 'w', %s)",
        [secrets.randbelow(2**40)],
    )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in WATCHED:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER {table}_portfolio_change ON {table}")
            schema_editor.execute(f"DROP FUNCTION {table}_portfolio_change()")
        else:
            for event in ("insert", "delete", "update"):
                schema_editor.execute(f"DROP TRIGGER {table}_portfolio_{event}")


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0012_answer_event_version"),
        ("people", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.CreateModel(
            name="PortfolioChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("workload_id", models.BigIntegerField(null=True)),
                (
                    "kind",
                    models.CharField(choices=[("w", "Workloads"), ("r", "Reviews")], max_length=1),
                ),
            ],
        ),
        migrations.CreateModel(
            name="PortfolioStamp",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("part", models.IntegerField()),
                (
                    "kind",
                    models.CharField(choices=[("w", "Workloads"), ("r", "Reviews")], max_length=1),
                ),
                ("changes", models.BigIntegerField(default=0)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("part", "kind"), name="one_stamp_per_part_and_kind"
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
