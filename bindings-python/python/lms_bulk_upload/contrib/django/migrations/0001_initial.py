from django.db import migrations, models  # type: ignore[import-untyped]


class Migration(migrations.Migration):  # type: ignore[misc]
    initial = True
    dependencies: list[tuple[str, str]] = []
    operations = [
        migrations.CreateModel(
            name="Record",
            fields=[
                ("seq", models.BigAutoField(primary_key=True, serialize=False)),
                ("kind", models.CharField(max_length=100)),
                ("key", models.CharField(max_length=200)),
                ("version", models.BigIntegerField()),
                ("doc", models.JSONField()),
            ],
            options={"permissions": [("bulk_upload", "Can bulk upload users")]},
        ),
        migrations.AddConstraint(
            model_name="record",
            constraint=models.UniqueConstraint(fields=("kind", "key"), name="lms_bulk_upload_record_kind_key"),
        ),
        migrations.AddIndex(
            model_name="record",
            index=models.Index(fields=["kind", "-seq"], name="lms_bulk_upload_record_list"),
        ),
    ]
