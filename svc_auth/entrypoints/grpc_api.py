"""gRPC AuthService: maps requests to commands and results to responses, nothing more."""

from __future__ import annotations

import grpc

from common.grpc_server import current_user
from svc_auth.domain.model import User
from svc_auth.service_layer.handlers import AuthHandlers, ChangePassword, SignIn, SignUp
from ticketing.auth.v1 import auth_pb2, auth_pb2_grpc


def user_to_proto(user: User) -> auth_pb2.User:
    return auth_pb2.User(id=user.id, email=user.email, version=user.version)


class AuthServicer(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, handlers: AuthHandlers) -> None:
        self.handlers = handlers

    async def SignUp(self, request: auth_pb2.SignUpRequest, context: grpc.aio.ServicerContext):
        session = await self.handlers.sign_up(SignUp(request.email, request.password))
        return auth_pb2.SignUpResponse(user=user_to_proto(session.user), token=session.token)

    async def SignIn(self, request: auth_pb2.SignInRequest, context: grpc.aio.ServicerContext):
        session = await self.handlers.sign_in(
            SignIn(request.email, request.password, request.device_token or None)
        )
        return auth_pb2.SignInResponse(
            user=user_to_proto(session.user),
            token=session.token,
            device_token=session.device_token or "",
        )

    async def SignOut(self, request: auth_pb2.SignOutRequest, context: grpc.aio.ServicerContext):
        await self.handlers.sign_out(current_user())
        return auth_pb2.SignOutResponse()

    async def GetUser(self, request: auth_pb2.GetUserRequest, context: grpc.aio.ServicerContext):
        user = await self.handlers.get_user(current_user().user_id, request.id)
        return auth_pb2.GetUserResponse(user=user_to_proto(user))

    async def ChangePassword(
        self, request: auth_pb2.ChangePasswordRequest, context: grpc.aio.ServicerContext
    ):
        claims = current_user()
        session = await self.handlers.change_password(
            ChangePassword(claims.user_id, request.current_password, request.new_password)
        )
        return auth_pb2.ChangePasswordResponse(
            user=user_to_proto(session.user), token=session.token
        )
