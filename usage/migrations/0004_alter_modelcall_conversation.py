import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
        ("usage", "0003_modelcall_display_multiplier"),
    ]

    operations = [
        migrations.AlterField(
            model_name="modelcall",
            name="conversation",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="chat.conversation"),
        ),
    ]
