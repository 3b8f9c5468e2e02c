"""The live stack's fixtures (daphne + simulator, tests/chat/conftest.py), named here so pytest
finds them for this folder's tests over HTTP."""

from tests.chat import conftest as live_stack

simulator_url = live_stack.simulator_url
gateway_url = live_stack.gateway_url
live = live_stack.live
