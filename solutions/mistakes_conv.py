"""Known mistakes in `conv`, each with the hint a student gets when their code makes it.

Instructor-only (never generated into exercises/). Each function reproduces one
mistake; it must be self-contained: NumPy only, no helpers from this file.
"""

import numpy as np

from grader.testing import mistake


@mistake(
    "conv_output_size", "the output length is an int: use floor division //, not /, by the stride"
)
def output_size_true_division(n, kernel, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1


@mistake(
    "conv_output_size",
    "padding adds zeros on both sides: the padded length is n + 2*padding, not n + padding",
)
def output_size_one_padding(n, kernel, stride=1, padding=0, dilation=1):
    return (n + padding - dilation * (kernel - 1) - 1) // stride + 1


@mistake(
    "conv_output_size",
    "a dilated kernel spans dilation*(kernel - 1) + 1 entries: the dilation is missing",
)
def output_size_without_dilation(n, kernel, stride=1, padding=0, dilation=1):
    return (n + 2 * padding - kernel) // stride + 1


@mistake(
    "conv2d_forward",
    "the kernel is flipped: conv2d in deep learning is cross-correlation, w is used as it is",
)
def conv_with_flipped_kernel(x, w, b, stride=1, padding=0):
    w = w[:, :, ::-1, ::-1]
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.empty((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * stride : i * stride + KH, j * stride : j * stride + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + b[None, :, None, None]


@mistake(
    "conv2d_forward",
    "the stride is ignored: window (i, j) starts at row i*stride and column j*stride",
)
def conv_ignoring_stride(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out, W_out = H + 2 * padding - KH + 1, W + 2 * padding - KW + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.empty((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i : i + KH, j : j + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + b[None, :, None, None]


@mistake(
    "conv2d_forward",
    "the padding goes on every side (both sides of H and of W): add `padding` zeros before "
    "and after, not on one side only",
)
def conv_padding_one_side(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = (H + padding - KH) // stride + 1
    W_out = (W + padding - KW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (0, padding), (0, padding)))
    out = np.empty((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * stride : i * stride + KH, j * stride : j * stride + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + b[None, :, None, None]


@mistake("conv2d_forward", "the bias is missing: add b[f] to every position of output channel f")
def conv_without_bias(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.empty((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * stride : i * stride + KH, j * stride : j * stride + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out


@mistake(
    "conv2d_backward",
    "windows overlap, so their gradients add up: dx[window] += ..., not dx[window] = ...",
)
def conv_backward_overwrites_overlaps(dout, x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + KH)
            cols = slice(j * stride, j * stride + KW)
            g = dout[:, :, i, j]
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] = np.tensordot(g, w, axes=([1], [0]))
    return dxp[:, :, padding : padding + H, padding : padding + W], dw, dout.sum(axis=(0, 2, 3))


@mistake(
    "conv2d_backward",
    "the backward pass ignores the stride: output (i, j) came from the window at i*stride, j*stride",
)
def conv_backward_ignoring_stride(dout, x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            g = dout[:, :, i, j]
            dw += np.tensordot(g, xp[:, :, i : i + KH, j : j + KW], axes=([0], [0]))
            dxp[:, :, i : i + KH, j : j + KW] += np.tensordot(g, w, axes=([1], [0]))
    return dxp[:, :, padding : padding + H, padding : padding + W], dw, dout.sum(axis=(0, 2, 3))


@mistake(
    "maxpool2d_forward",
    "pooling windows start every `stride` entries; yours move by `kernel`",
)
def maxpool_stride_is_kernel(x, kernel=2, stride=2):
    N, C, H, W = x.shape
    H_out, W_out = (H - kernel) // kernel + 1, (W - kernel) // kernel + 1
    out = np.empty((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * kernel : i * kernel + kernel, j * kernel : j * kernel + kernel]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


@mistake(
    "maxpool2d_backward",
    "the gradient is spread over the whole window (that is average pooling): it all goes to the max",
)
def maxpool_backward_spread_over_window(dout, x, kernel=2, stride=2):
    dx = np.zeros_like(x)
    _, _, H_out, W_out = dout.shape
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + kernel)
            cols = slice(j * stride, j * stride + kernel)
            dx[:, :, rows, cols] += dout[:, :, i, j][:, :, None, None] / kernel**2
    return dx


@mistake(
    "maxpool2d_backward",
    "where windows overlap, a shared maximum collects the gradient of each window: add, don't overwrite",
)
def maxpool_backward_overwrites_overlaps(dout, x, kernel=2, stride=2):
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for n in range(N):
        for c in range(C):
            for i in range(H_out):
                for j in range(W_out):
                    window = x[
                        n, c, i * stride : i * stride + kernel, j * stride : j * stride + kernel
                    ]
                    u, v = np.unravel_index(np.argmax(window), window.shape)
                    dx[n, c, i * stride + u, j * stride + v] = dout[n, c, i, j]
    return dx


@mistake(
    "maxpool2d_backward",
    "on ties only the first maximum (row-major order) takes the gradient, as in PyTorch; "
    "x == max sends it to every tied one",
)
def maxpool_backward_to_every_tied_maximum(dout, x, kernel=2, stride=2):
    dx = np.zeros_like(x)
    _, _, H_out, W_out = dout.shape
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + kernel)
            cols = slice(j * stride, j * stride + kernel)
            window = x[:, :, rows, cols]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            dx[:, :, rows, cols] += mask * dout[:, :, i, j][:, :, None, None]
    return dx


@mistake(
    "conv2d_forward",
    "window (i, j) starts at row i*stride and column j*stride: the stride is missing from the "
    "window's position (the output size alone is not enough)",
)
def conv_windows_one_apart(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.empty((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i : i + KH, j : j + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + b[None, :, None, None]


@mistake(
    "conv2d_backward",
    "with padding = 0, dxp[:, :, p:-p] is empty (-0 is 0): crop with dxp[:, :, p:p + H, p:p + W]",
)
def conv_backward_crops_with_negative_indices(dout, x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + KH)
            cols = slice(j * stride, j * stride + KW)
            g = dout[:, :, i, j]
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    return dxp[:, :, padding:-padding, padding:-padding], dw, dout.sum(axis=(0, 2, 3))


@mistake(
    "conv2d_backward",
    "dx is dxp without its padding: crop `padding` rows and columns on every side, "
    "dxp[:, :, p:p + H, p:p + W]",
)
def conv_backward_does_not_crop(dout, x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + KH)
            cols = slice(j * stride, j * stride + KW)
            g = dout[:, :, i, j]
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    return dxp, dw, dout.sum(axis=(0, 2, 3))


@mistake(
    "conv2d_backward",
    "dw accumulates the contribution of every output position: dw += ..., not dw = ... "
    "(which keeps only the last window's)",
)
def conv_backward_overwrites_dw(dout, x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + KH)
            cols = slice(j * stride, j * stride + KW)
            g = dout[:, :, i, j]
            dw = np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    return dxp[:, :, padding : padding + H, padding : padding + W], dw, dout.sum(axis=(0, 2, 3))


@mistake(
    "conv2d_backward",
    "no flip in the backward pass: the forward pass is a cross-correlation, so each window's dx "
    "is dout times w as it is",
)
def conv_backward_flips_the_kernel(dout, x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    flipped = w[:, :, ::-1, ::-1]
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + KH)
            cols = slice(j * stride, j * stride + KW)
            g = dout[:, :, i, j]
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(g, flipped, axes=([1], [0]))
    return dxp[:, :, padding : padding + H, padding : padding + W], dw, dout.sum(axis=(0, 2, 3))


@mistake(
    "conv_output_size",
    "the output length rounds down, floor division //: a window that does not fit is not counted "
    "(yours rounds up, ceil)",
)
def output_size_rounds_up(n, kernel, stride=1, padding=0, dilation=1):
    return -(-(n + 2 * padding - dilation * (kernel - 1) - 1) // stride) + 1


@mistake(
    "maxpool2d_backward",
    "on ties only the first maximum (row-major order) takes the gradient, as in PyTorch; "
    "splitting it equally between the tied ones is not what the max does",
)
def maxpool_backward_splits_ties(dout, x, kernel=2, stride=2):
    dx = np.zeros_like(x)
    _, _, H_out, W_out = dout.shape
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + kernel)
            cols = slice(j * stride, j * stride + kernel)
            window = x[:, :, rows, cols]
            mask = window == window.max(axis=(2, 3), keepdims=True)
            share = mask / mask.sum(axis=(2, 3), keepdims=True)
            dx[:, :, rows, cols] += share * dout[:, :, i, j][:, :, None, None]
    return dx


@mistake(
    "maxpool2d_backward",
    "on ties the first maximum in row-major order takes the gradient: a >= comparison keeps the "
    "last tied one (use >, or np.argmax)",
)
def maxpool_backward_to_the_last_tied_maximum(dout, x, kernel=2, stride=2):
    N, C, H, W = x.shape
    _, _, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * stride : i * stride + kernel, j * stride : j * stride + kernel]
            flat = window.reshape(N, C, -1)[:, :, ::-1]
            last = kernel * kernel - 1 - flat.argmax(axis=2)
            u, v = np.unravel_index(last, (kernel, kernel))
            n_idx, c_idx = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
            np.add.at(dx, (n_idx, c_idx, i * stride + u, j * stride + v), dout[:, :, i, j])
    return dx


@mistake(
    "maxpool2d_forward",
    "pooling windows start every `stride` entries (i*stride), not every `kernel` entries",
)
def maxpool_windows_kernel_apart(x, kernel=2, stride=2):
    N, C, H, W = x.shape
    H_out, W_out = (H - kernel) // stride + 1, (W - kernel) // stride + 1
    out = np.empty((N, C, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = x[:, :, i * kernel : i * kernel + kernel, j * kernel : j * kernel + kernel]
            out[:, :, i, j] = window.max(axis=(2, 3))
    return out


@mistake(
    "conv2d_forward",
    "the padding goes on every side (both sides of H and of W): `padding` zeros before and "
    "`padding` after, not 2 * padding after only",
)
def conv_pads_after_only(x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    H_out = (H + 2 * padding - KH) // stride + 1
    W_out = (W + 2 * padding - KW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding)))
    out = np.empty((N, F, H_out, W_out))
    for i in range(H_out):
        for j in range(W_out):
            window = xp[:, :, i * stride : i * stride + KH, j * stride : j * stride + KW]
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    return out + b[None, :, None, None]


@mistake(
    "conv2d_backward",
    "the padding goes on every side (both sides of H and of W), in the backward pass too: "
    "`padding` zeros before and after, then crop the same `padding` from every side",
)
def conv_backward_pads_after_only(dout, x, w, b, stride=1, padding=0):
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    _, _, H_out, W_out = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(H_out):
        for j in range(W_out):
            rows = slice(i * stride, i * stride + KH)
            cols = slice(j * stride, j * stride + KW)
            g = dout[:, :, i, j]
            dw += np.tensordot(g, xp[:, :, rows, cols], axes=([0], [0]))
            dxp[:, :, rows, cols] += np.tensordot(g, w, axes=([1], [0]))
    return dxp[:, :, padding : padding + H, padding : padding + W], dw, dout.sum(axis=(0, 2, 3))
