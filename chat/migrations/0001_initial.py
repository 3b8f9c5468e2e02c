"""Conversations and messages move here from the `gateway` app, which is now the project only.

The tables already exist (created by gateway's 0001/0002): the state is created here, and
the database only has its tables and indexes renamed, so no row is copied or lost.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

RENAMES = [
    ("TABLE", "gateway_conversation", "chat_conversation"),
    ("TABLE", "gateway_message", "chat_message"),
    ("INDEX", "gateway_con_organiz_9003fd_idx", "chat_conver_organiz_7915da_idx"),
    ("INDEX", "gateway_mes_convers_d406e9_idx", "chat_messag_convers_3154fc_idx"),
]


def _content_types_move(apps, schema_editor, source="gateway", target="chat"):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label=source, model__in=["conversation", "message"]).update(
        app_label=target
    )


def _content_types_back(apps, schema_editor):
    _content_types_move(apps, schema_editor, source="chat", target="gateway")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("accounts", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("gateway", "0002_initial"),
        ("routing", "0004_alter_modelprovider_api_base"),
        ("usage", "0003_modelcall_display_multiplier"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    f"ALTER {kind} {old} RENAME TO {new}",
                    reverse_sql=f"ALTER {kind} {new} RENAME TO {old}",
                )
                for kind, old, new in RENAMES
            ],
            state_operations=[
                migrations.CreateModel(
                    name="Conversation",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("title", models.CharField(blank=True, max_length=200)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                        ("assistant", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="routing.assistant")),
                        ("organization", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.organization")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="conversations", to=settings.AUTH_USER_MODEL)),
                    ],
                ),
                migrations.CreateModel(
                    name="Message",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("role", models.CharField(choices=[("system", "System"), ("user", "User"), ("assistant", "Assistant")], max_length=16)),
                        ("content", models.TextField()),
                        ("incomplete", models.BooleanField(default=False)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("conversation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="messages", to="chat.conversation")),
                        ("model_call", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to="usage.modelcall")),
                        ("organization", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.organization")),
                    ],
                    options={"ordering": ["created_at", "id"]},
                ),
                migrations.AddIndex(
                    model_name="conversation",
                    index=models.Index(fields=["organization", "user", "-updated_at"], name="chat_conver_organiz_7915da_idx"),
                ),
                migrations.AddIndex(
                    model_name="message",
                    index=models.Index(fields=["conversation", "created_at"], name="chat_messag_convers_3154fc_idx"),
                ),
            ],
        ),
        migrations.RunPython(_content_types_move, _content_types_back),
    ]
