import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("chat", "0001_initial"),
        ("routing", "0004_alter_modelprovider_api_base"),
    ]

    operations = [
        migrations.AlterField(
            model_name="promptcheck",
            name="conversation",
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="chat.conversation"),
        ),
    ]
