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
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out = np.zeros((N, F, Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            hs, ws = i * stride, j * stride
            window = xp[:, :, hs:hs + KH, ws:ws + KW]          # (N, C, KH, KW)
            out[:, :, i, j] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3]))
    out += b[None, :, None, None]
    return out


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
    _, _, Ho, Wo = dout.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    dxp = np.zeros_like(xp)
    dw = np.zeros_like(w)
    db = np.sum(dout, axis=(0, 2, 3))
    for i in range(Ho):
        for j in range(Wo):
            hs, ws = i * stride, j * stride
            window = xp[:, :, hs:hs + KH, ws:ws + KW]          # (N, C, KH, KW)
            d = dout[:, :, i, j]                               # (N, F)
            dw += np.tensordot(d, window, axes=([0], [0]))     # (F, C, KH, KW)
            dxp[:, :, hs:hs + KH, ws:ws + KW] += np.tensordot(d, w, axes=([1], [0]))
    dx = dxp[:, :, padding:padding + H, padding:padding + W]
    return dx, dw, db


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
            dx[:, :, hs:hs + kernel, ws:ws + kernel] += dout[:, :, i, j][:, :, None, None] / (kernel * kernel)
    return dx
