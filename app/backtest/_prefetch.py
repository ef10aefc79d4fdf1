"""``prefetch(arr, i, j)``: a numba intrinsic emitting LLVM's ``llvm.prefetch``
for the address of ``arr[i, j]`` (read, high locality, data cache).

A prefetch never faults, retires at once and only asks the memory system to
bring a cache line in early; the backtest kernel uses it for the few bars it
knows it will touch next (the next change of target), instead of streaming
whole arrays through the cache. Out-of-range indices are clamped.
"""
from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def prefetch(typingctx, arr, i, j):
    if not (isinstance(arr, types.Array) and arr.ndim == 2
            and isinstance(i, types.Integer) and isinstance(j, types.Integer)):
        return None
    sig = types.void(arr, i, j)

    def codegen(context, builder, signature, args):
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        intp = context.get_value_type(types.intp)
        shape = cgutils.unpack_tuple(builder, ary.shape, 2)
        idx = []
        for value, valty, dim in zip(args[1:], signature.args[1:], shape):
            v = context.cast(builder, value, valty, types.intp)
            hi = builder.sub(dim, ir.Constant(intp, 1))
            v = builder.select(builder.icmp_signed(">", v, hi), hi, v)
            v = builder.select(builder.icmp_signed("<", v, ir.Constant(intp, 0)), ir.Constant(intp, 0), v)
            idx.append(v)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, idx)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        builder.call(fn, [builder.bitcast(ptr, i8p), ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
