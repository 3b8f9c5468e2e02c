"""Gateway factories. A message always lives in its conversation's organisation."""

from __future__ import annotations

import factory
from factory.django import DjangoModelFactory

from chat.models import Conversation, Message, MessageRole
from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.billing.factories import ensure_membership
from tests.routing.factories import AssistantFactory


class ConversationFactory(DjangoModelFactory[Conversation]):
    class Meta:
        model = Conversation
        skip_postgeneration_save = True

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(UserFactory)
    assistant = factory.SubFactory(AssistantFactory)
    title = factory.Sequence(lambda n: f"Test conversation {n}")
    member = factory.PostGeneration(ensure_membership)


class MessageFactory(DjangoModelFactory[Message]):
    """Pass `model_call=` from the same conversation's tenant for an assistant reply."""

    class Meta:
        model = Message

    conversation = factory.SubFactory(ConversationFactory)
    organization = factory.LazyAttribute(lambda o: o.conversation.organization)
    role = MessageRole.USER
    content = "Hello there"
    model_call = None
    incomplete = False
