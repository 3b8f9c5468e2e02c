from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_org, request_user
from accounts.models import ApiKey
from accounts.selectors import api_key_list
from accounts.services import api_key_create, api_key_revoke


class ApiKeyOutputSerializer(serializers.Serializer[ApiKey]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    prefix = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_used_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)


class ApiKeyListCreateApi(APIView):
    class InputSerializer(serializers.Serializer[None]):
        name = serializers.CharField(max_length=80)

        class Meta:
            ref_name = "ApiKeyCreateInput"

    class CreatedSerializer(ApiKeyOutputSerializer):
        secret = serializers.CharField(help_text="Shown once; store it now")

        class Meta:
            ref_name = "ApiKeyCreated"

    @extend_schema(responses=ApiKeyOutputSerializer(many=True), summary="The organisation's keys")
    def get(self, request: Request) -> Response:
        keys = api_key_list(org=request_org(request))
        # The stubs type `instance` as one object even with many=True (drf-stubs issue 827).
        return Response(ApiKeyOutputSerializer(keys, many=True).data)  # type: ignore[arg-type]

    @extend_schema(request=InputSerializer, responses={201: CreatedSerializer})
    def post(self, request: Request) -> Response:
        serializer = self.InputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        new = api_key_create(
            org=request_org(request),
            actor=request_user(request),
            name=serializer.validated_data["name"],
        )
        data = {**ApiKeyOutputSerializer(new.key).data, "secret": new.secret}
        return Response(data, status=status.HTTP_201_CREATED)


class ApiKeyRevokeApi(APIView):
    @extend_schema(request=None, responses=ApiKeyOutputSerializer, summary="Revoke a key")
    def post(self, request: Request, key_id: int) -> Response:
        key = api_key_revoke(org=request_org(request), actor=request_user(request), key_id=key_id)
        return Response(ApiKeyOutputSerializer(key).data)
