from django.db import migrations


def clear_reopened_claims(apps, schema_editor):
    """Reopened claims kept their user and name; a claim is now all three or none."""
    Checklist = apps.get_model("checklists", "Checklist")
    Checklist.objects.filter(claimed_at__isnull=True).update(claimed_by=None, signature="")


class Migration(migrations.Migration):
    dependencies = [("checklists", "0003_checklist_claimed_late")]

    operations = [migrations.RunPython(clear_reopened_claims, migrations.RunPython.noop)]
