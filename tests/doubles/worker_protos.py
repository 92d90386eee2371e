"""A test double of the Python worker's generated protobuf module, as far as the worker's own
indexing code (azure-functions-runtime) uses it to index an app: the BindingInfo enums, with the
values of FunctionRpc.proto (BindingInfo.Direction: in = 0, out = 1, inout = 2; DataType:
undefined = 0). The real module comes with the worker inside the Functions host."""

from __future__ import annotations

from types import SimpleNamespace

BindingInfo = SimpleNamespace(in_=0, out=1, inout=2, undefined=0, string=1, binary=2, stream=3)
