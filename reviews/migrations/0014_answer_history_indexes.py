"""An answer's history is read newest first or since a version (reviews.selectors.answer_history):
an index for each, both led by the answer, so the foreign key's own index goes (after them, so
that reads by answer always have one)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0013_portfolio_changes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="answerevent",
            index=models.Index(fields=["answer", "-at", "-id"], name="answer_history_latest"),
        ),
        migrations.AddIndex(
            model_name="answerevent",
            index=models.Index(fields=["answer", "version"], name="answer_history_versions"),
        ),
        migrations.AlterField(
            model_name="answerevent",
            name="answer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="reviews.answer",
            ),
        ),
    ]
