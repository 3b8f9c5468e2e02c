"""Conversation and Message now belong to the chat app (chat/migrations/0001_initial.py
renamed their tables); only the migration state is removed here."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("gateway", "0002_initial"),
        ("chat", "0001_initial"),
        ("routing", "0005_alter_promptcheck_conversation"),
        ("usage", "0004_alter_modelcall_conversation"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(model_name="message", name="conversation"),
                migrations.RemoveField(model_name="message", name="model_call"),
                migrations.RemoveField(model_name="message", name="organization"),
                migrations.RemoveField(model_name="conversation", name="assistant"),
                migrations.RemoveField(model_name="conversation", name="organization"),
                migrations.RemoveField(model_name="conversation", name="user"),
                migrations.DeleteModel(name="Message"),
                migrations.DeleteModel(name="Conversation"),
            ],
        ),
    ]
