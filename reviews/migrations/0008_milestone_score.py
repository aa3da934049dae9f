"""Milestone.score, worked out for the milestones saved before it from their frozen copies."""

from django.db import migrations, models


def score_saved_milestones(apps, schema_editor):
    from reviews.score_selectors import snapshots_score

    Milestone = apps.get_model("reviews", "Milestone")
    for milestone in Milestone.objects.only("pk", "data").iterator(chunk_size=100):
        milestone.score = snapshots_score(milestone.data.get("lens_reviews", []))
        milestone.save(update_fields=["score"])


class Migration(migrations.Migration):
    dependencies = [("reviews", "0007_report_xlsx_format")]

    operations = [
        migrations.AddField(
            model_name="milestone",
            name="score",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.RunPython(score_saved_milestones, migrations.RunPython.noop),
    ]
