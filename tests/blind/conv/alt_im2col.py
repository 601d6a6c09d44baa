# Exercise `conv`: replace each `raise NotImplementedError` with your code.
# Check your work with:  dlgrade check conv
# (generated from solutions/conv.py by `dlgrade generate`)
"""Convolution and max-pooling by hand, forward and backward.

What deep learning calls a convolution is a *cross-correlation*: the kernel is
slid over the input without being flipped,

    out[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xp[n, c, i*s + u, j*s + v]

where ``xp`` is the input with ``padding`` zeros on *every* side and ``s`` the
stride. This is exactly ``torch.nn.functional.conv2d``.

Backward, each output position used one window of ``xp``, so its gradient goes
back to that same window: ``dw`` collects ``dout * window``, ``dxp`` collects
``dout * w``, and the padding is cut off ``dxp`` at the end.

Layouts: images ``x (N, C, H, W)``, kernels ``w (F, C, KH, KW)``, bias ``b (F,)``.
Nothing here modifies its inputs.
"""

import numpy as np


def _im2col_indices(C, Hp, Wp, KH, KW, stride, Ho, Wo):
    """Index arrays (c, r, s) of shape (C*KH*KW, Ho*Wo) into the padded image."""
    c = np.repeat(np.arange(C), KH * KW).reshape(-1, 1)
    u = np.tile(np.repeat(np.arange(KH), KW), C).reshape(-1, 1)
    v = np.tile(np.arange(KW), KH * C).reshape(-1, 1)
    i0 = (stride * np.repeat(np.arange(Ho), Wo)).reshape(1, -1)
    j0 = (stride * np.tile(np.arange(Wo), Ho)).reshape(1, -1)
    return c, u + i0, v + j0


def conv_output_size(n, kernel, stride=1, padding=0, dilation=1):
    """The output length along one axis of a convolution or pooling.

        n_out = (n + 2*padding - dilation*(kernel - 1) - 1) // stride + 1

    Args:
        n: the input length (height or width).
        kernel: the kernel length along that axis.
        stride, padding, dilation: ints, as in ``torch.nn.functional.conv2d``.

    Returns:
        An int.

    Example:
        >>> conv_output_size(32, 5), conv_output_size(32, 3, stride=2, padding=1)
        (28, 16)
    """
    return (n + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv2d_forward(x, w, b, stride=1, padding=0):
    """A 2-d convolution (cross-correlation) with zero padding on every side.

        out[n, f, i, j] = b[f] + sum_{c, u, v} w[f, c, u, v] * xp[n, c, i*stride + u, j*stride + v]

    Args:
        x: float64 array ``(N, C, H, W)``.
        w: float64 array ``(F, C, KH, KW)``, one kernel per output channel.
        b: float64 array ``(F,)``.
        stride: int, the step between windows.
        padding: int, zeros added on each of the four sides.

    Returns:
        float64 array ``(N, F, H', W')`` with ``H' = conv_output_size(H, KH, stride, padding)``.

    Example:
        >>> x = np.arange(9.0).reshape(1, 1, 3, 3)
        >>> conv2d_forward(x, np.ones((1, 1, 2, 2)), np.zeros(1))[0, 0]
        array([[ 8., 12.],
               [20., 24.]])
    """
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    Ho = conv_output_size(H, KH, stride, padding)
    Wo = conv_output_size(W, KW, stride, padding)
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)], mode="constant")
    c, r, s = _im2col_indices(C, H + 2 * padding, W + 2 * padding, KH, KW, stride, Ho, Wo)
    cols = xp[:, c, r, s]                                  # (N, C*KH*KW, Ho*Wo)
    out = np.matmul(w.reshape(F, -1), cols) + b.reshape(1, F, 1)
    return out.reshape(N, F, Ho, Wo)


def conv2d_backward(dout, x, w, b, stride=1, padding=0):
    """Gradients of ``conv2d_forward``, given ``dout = dL/dout`` of shape ``(N, F, H', W')``.

        db[f]  = sum over n, i, j of dout[n, f, i, j]
        dw     = sum over n, i, j of dout[n, f, i, j] * window(n, i, j)
        dxp    : each window(n, i, j) receives sum_f dout[n, f, i, j] * w[f]
        dx     = dxp without its padding

    Windows overlap when the stride is smaller than the kernel: their gradients add up.

    Returns:
        ``(dx, dw, db)``, shaped like ``x``, ``w`` and ``b``.
    """
    N, C, H, W = x.shape
    F, _, KH, KW = w.shape
    Ho, Wo = dout.shape[2], dout.shape[3]
    xp = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)], mode="constant")
    c, r, s = _im2col_indices(C, H + 2 * padding, W + 2 * padding, KH, KW, stride, Ho, Wo)
    cols = xp[:, c, r, s]                                  # (N, CKK, P)
    d = dout.reshape(N, F, -1)                             # (N, F, P)
    dw = np.einsum("nfp,nkp->fk", d, cols).reshape(w.shape)
    db = d.sum(axis=(0, 2))
    dcols = np.einsum("fk,nfp->nkp", w.reshape(F, -1), d)
    dxp = np.zeros_like(xp)
    np.add.at(dxp, (slice(None), c, r, s), dcols)
    return dxp[:, :, padding:padding + H, padding:padding + W], dw, db


def maxpool2d_forward(x, kernel=2, stride=2):
    """Max-pooling: the largest value of each ``kernel x kernel`` window, windows ``stride`` apart.

        out[n, c, i, j] = max_{u, v < kernel} x[n, c, i*stride + u, j*stride + v]

    Args:
        x: float64 array ``(N, C, H, W)``.
        kernel, stride: ints; no padding.

    Returns:
        float64 array ``(N, C, H', W')`` with ``H' = conv_output_size(H, kernel, stride)``.

    Example:
        >>> maxpool2d_forward(np.arange(16.0).reshape(1, 1, 4, 4))[0, 0]
        array([[ 5.,  7.],
               [13., 15.]])
    """
    N, C, H, W = x.shape
    Ho = conv_output_size(H, kernel, stride)
    Wo = conv_output_size(W, kernel, stride)
    out = np.zeros((N, C, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            hs, ws = i * stride, j * stride
            out[:, :, i, j] = np.max(x[:, :, hs:hs + kernel, ws:ws + kernel], axis=(2, 3))
    return out


def maxpool2d_backward(dout, x, kernel=2, stride=2):
    """Gradient of ``maxpool2d_forward``: each window's gradient goes to its maximum only.

    The other entries of the window did not affect the output, so their gradient
    is 0. Where windows overlap (stride < kernel), an entry that is the maximum of
    several windows collects the gradient of each. On ties, the first maximum in
    row-major order takes it, as in PyTorch.

    Returns:
        ``dx``, shaped like ``x``.
    """
    N, C, H, W = x.shape
    _, _, Ho, Wo = dout.shape
    dx = np.zeros_like(x)
    n_idx, c_idx = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for i in range(Ho):
        for j in range(Wo):
            hs, ws = i * stride, j * stride
            window = x[:, :, hs:hs + kernel, ws:ws + kernel].reshape(N, C, -1)
            k = np.argmax(window, axis=2)                      # first max, row-major
            u, v = k // kernel, k % kernel
            dx[n_idx, c_idx, hs + u, ws + v] += dout[:, :, i, j]
    return dx
