from django.urls import path

from chat import views as chat_views

app_name = "chat"

urlpatterns = [
    path("", chat_views.chat_page, name="page"),
    path("precheck/", chat_views.chat_precheck, name="precheck"),
    path("request-access/", chat_views.assistant_request_access, name="request-access"),
    path("<int:conversation_id>/", chat_views.chat_page, name="conversation"),
    path(
        "<int:conversation_id>/rename/",
        chat_views.conversation_rename,
        name="conversation-rename",
    ),
    path("answers/<int:call_id>/feedback/", chat_views.answer_feedback, name="answer-feedback"),
    path("answers/<int:call_id>/better/", chat_views.answer_better, name="answer-better"),
    path(
        "<int:conversation_id>/delete/",
        chat_views.conversation_delete,
        name="conversation-delete",
    ),
]
