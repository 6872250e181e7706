# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3 (dlnotes)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Chapter 7 — Convolutional networks: sliding a small kernel over an image
#
# A fully connected layer from a $28\times28$ image to 1024 hidden units needs
# $784 \cdot 1024 \approx 800\,000$ weights, and it has to learn "a vertical edge" again
# at every position. A **convolutional layer** (卷积层) slides one small kernel over the
# image instead: the same few weights are used everywhere.
#
# **What this chapter covers**
# 1. Why convolution: local receptive fields, parameter sharing, translation
#    equivariance.
# 2. Convolution as cross-correlation (互相关), with a kernel-editing widget on a digit.
# 3. Padding, stride and the output size, with a slider; the receptive field of a stack
#    of layers, with a figure.
# 4. Channels and the forward pass, written first as plain loops.
# 5. im2col and col2im: a convolution as one matrix product, and its adjoint.
# 6. The backward pass of a convolution, built on col2im.
# 7. Max pooling (最大池化) forward and backward; flatten.
# 8. A small CNN trained on the 8×8 digits **with your own layers**, the same model in
#    torch beside it, and the feature maps it learned.
# 9. A residual block (残差块) and global average pooling (全局平均池化).
# 10. Equivariant, not invariant: a CNN and an MLP on shifted digits.
#
# **How to check your answers.** Each exercise is a function with a stub that
# raises `NotImplementedError`. Replace the stub with your code, run the cell,
# then run the test cell below it: it passes silently or tells you what is wrong.
# The grader also runs hidden tests (random inputs, several channels, stride and
# padding, ties in max pooling, a numerical gradient check and a short training run
# for the backward pass) on each exercise. In JupyterLab, the **Validate** button of
# the nbgrader toolbar runs every test of the notebook at once.
#
# Exercises may use `numpy` only: an answer that calls `dlnotes`, scikit-learn or
# torch scores zero for that exercise. Tensors use torch's layout: images are
# `(N, C, H, W)` (batch, channels, height, width) and kernels are
# `(C_out, C_in, KH, KW)`.

# %%
import numpy as np

from dlnotes.checks import answer, check_close, check_equal

# %% [markdown]
# ## 1. Why convolution?
#
# Three ideas make a convolutional layer cheaper and better suited to images than a
# dense one:
#
# - **local receptive field** (局部感受野): each output looks at a small window of the
#   input, e.g. $3\times3$ pixels, because nearby pixels are what form an edge or a
#   corner;
# - **parameter sharing** (参数共享, 权值共享): the same kernel is used at every position,
#   so a layer has $C_{out} C_{in} K^2 + C_{out}$ parameters whatever the image size;
# - **translation equivariance** (平移等变性): shift the input and the feature map
#   shifts by the same amount, $\mathrm{conv}(\mathrm{shift}(x)) =
#   \mathrm{shift}(\mathrm{conv}(x))$ (away from the borders).
#
# > **Pitfall.** A common note lists the advantages of convolution as "parameter
# > sharing, local receptive fields and **translation invariance**" (平移不变性). A
# > convolution is translation **equivariant**, not invariant: its output *moves* with
# > the input. Some invariance (不变性) comes from pooling, and only a little: a
# > $2\times2$ max pool ignores shifts that stay inside its window, and a global
# > pooling at the end ignores where a feature was. Section 10 shows a trained CNN
# > losing accuracy when the digits are shifted by two pixels.
#
# The demo below checks equivariance on a digit. Demo cells use the reference
# implementation `dlnotes.cnn` until section 6, where your own layers take over. They
# are not graded and are skipped when your notebook is graded.

# %% tags=["demo"]
import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

from dlnotes import cnn as ref

# The matrices of this chapter are small: one BLAS thread is faster than several, and
# several threads slow to a crawl on a busy machine.
threadpool_limits(limits=1)

digits = load_digits()                       # ships with scikit-learn: nothing downloaded
img = digits.images[0] / 16.0                # an 8x8 "0", values in [0, 1]
edge = np.array([[1.0, 0.0, -1.0], [2.0, 0.0, -2.0], [1.0, 0.0, -1.0]])  # Sobel, vertical edges


def conv_img(image, kernel, padding=1):
    """Convolve one 2-D image with one 2-D kernel (a 1-channel, 1-filter layer)."""
    maps, _ = ref.conv2d_forward(image[None, None], kernel[None, None], None, padding=padding)
    return maps[0, 0]


def shift_right(image, k=1):
    """Move the picture k pixels to the right, filling with zeros."""
    moved = np.zeros_like(image)
    moved[:, k:] = image[:, :image.shape[1] - k]
    return moved


a = conv_img(shift_right(img), edge)         # shift, then convolve
b = shift_right(conv_img(img, edge))         # convolve, then shift
print("conv(shift(x)) == shift(conv(x)) away from the border:",
      np.allclose(a[:, 2:-1], b[:, 2:-1]))
print("but the feature map moved, it is not the same map:",
      not np.allclose(conv_img(shift_right(img), edge), conv_img(img, edge)))
print("the global max of the map does not care where the edge is:",
      conv_img(img, edge).max().round(3), conv_img(shift_right(img), edge).max().round(3))

fig, axes = plt.subplots(1, 4, figsize=(11, 2.8))
for ax, im, title in zip(axes, (img, conv_img(img, edge), shift_right(img),
                                conv_img(shift_right(img), edge)),
                         ("digit", "its vertical-edge map", "digit shifted right by 1",
                          "map of the shifted digit"), strict=True):
    if title.startswith("digit"):
        ax.imshow(im, cmap="gray")
    else:                                    # red = positive response, blue = negative
        ax.imshow(im, cmap="RdBu_r", vmin=-np.abs(im).max(), vmax=np.abs(im).max())
    ax.set_title(title, fontsize=9)
    ax.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 2. Convolution is a cross-correlation
#
# For one input channel and one kernel $w$ of size $K_H\times K_W$, a deep-learning
# "convolution" computes, at output position $(i, j)$,
#
# $$\text{out}[i, j] = b + \sum_{k=0}^{K_H-1}\sum_{l=0}^{K_W-1} w[k, l]\;x[i + k,\ j + l].$$
#
# This is a **cross-correlation** (互相关): the kernel is laid on the image as it is.
# The convolution of signal processing flips the kernel first,
# $\sum_{k,l} w[k, l]\,x[i - k, j - l]$. Since the kernel is learned, the flip does not
# matter for a network (it would learn the flipped kernel), and torch, TensorFlow and
# this book all compute the cross-correlation. It matters when you compare numbers or
# copy weights: with a flipped kernel you get a different answer.
#
# Each output number is the **response** (响应值) of the kernel at that position: large
# where the image looks like the kernel, negative where it looks like its opposite, and
# near 0 elsewhere.
#
# The widget lets you edit a $3\times3$ kernel (or pick a classic one) and see its
# response on a digit.

# %% tags=["demo"]
import ipywidgets as widgets
from IPython.display import display

PRESETS = {
    "vertical edge (Sobel)": edge,
    "horizontal edge (Sobel)": edge.T,
    "blur (box)": np.full((3, 3), 1 / 9),
    "sharpen": np.array([[0.0, -1.0, 0.0], [-1.0, 5.0, -1.0], [0.0, -1.0, 0.0]]),
    "identity": np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]]),
    "diagonal stroke": np.eye(3) - 1 / 3,
}
cells = [widgets.FloatText(value=float(v), layout=widgets.Layout(width="70px"))
         for v in edge.ravel()]
preset = widgets.Dropdown(options=list(PRESETS), description="kernel")
which = widgets.IntSlider(value=0, min=0, max=50, description="digit #")


def use_preset(change):
    for cell, v in zip(cells, PRESETS[change["new"]].ravel(), strict=True):
        cell.value = float(v)


preset.observe(use_preset, names="value")


def show_response(index, **weights):
    kernel = np.array([weights[f"w{i}"] for i in range(9)]).reshape(3, 3)
    image = digits.images[index] / 16.0
    fig, axes = plt.subplots(1, 3, figsize=(9, 3))
    axes[0].imshow(image, cmap="gray")
    axes[0].set_title(f"digit {digits.target[index]}")
    axes[1].imshow(kernel, cmap="RdBu_r", vmin=-np.abs(kernel).max() - 1e-9,
                   vmax=np.abs(kernel).max() + 1e-9)
    axes[1].set_title("kernel")
    resp = conv_img(image, kernel)
    lim = np.abs(resp).max() + 1e-9
    axes[2].imshow(resp, cmap="RdBu_r", vmin=-lim, vmax=lim)
    axes[2].set_title("response (padding 1)")
    for ax in axes:
        ax.axis("off")
    plt.show()


grid = widgets.GridBox(cells, layout=widgets.Layout(grid_template_columns="repeat(3, 80px)"))
out = widgets.interactive_output(show_response, {"index": which,
                                                 **{f"w{i}": c for i, c in enumerate(cells)}})
display(widgets.VBox([widgets.HBox([preset, which]), grid, out]))

# %% [markdown]
# ## 3. Padding, stride and the output size
#
# Along each spatial axis a window of size $K$ moves over an input of size $H$:
#
# - **padding** (填充) $P$ adds $P$ rows or columns of zeros on **each** side, so the
#   padded input has size $H + 2P$;
# - **stride** (步长) $S$ is the step between two window positions.
#
# The first window starts at 0, the last one must end inside the padded input, so the
# start positions are $0, S, 2S, \dots$ up to $H + 2P - K$. That gives
#
# $$H_{out} = \left\lfloor \frac{H + 2P - K}{S} \right\rfloor + 1, \qquad
#   W_{out} = \left\lfloor \frac{W + 2P - K}{S} \right\rfloor + 1.$$
#
# The floor (向下取整) says that a last partial window is dropped: rows at the
# bottom that no window reaches are ignored (torch does the same). The "+1" counts the
# first window. With $K = 3$, $P = 1$, $S = 1$ the size is kept ("same" padding); with
# $S = 2$ it is roughly halved. The same formula gives the output size of a pooling
# layer.
#
# > **Pitfall.** A common note explains padding by saying that after adding a ring of
# > zeros "the convolution result gains dimensions (升维), so it gets more information".
# > Padding adds no information: the added pixels are zeros. What it does is
# > **preserve** the spatial size ($K=3, P=1$ keeps $H$) and let the kernel be centred
# > on the **border** pixels, so that features at the edge of the image are not lost
# > (without padding every $3\times3$ layer shaves one pixel off each side, and border
# > pixels take part in fewer windows). The number of dimensions stays 4: $(N, C, H, W)$.
#
# The slider draws the padded input (grey = zeros), the first window (red) and the
# top-left corner of every window (dots): one dot per output pixel.

# %% tags=["demo"]
from matplotlib.patches import Rectangle


def show_output_size(size=8, kernel=3, padding=0, stride=1):
    hp = size + 2 * padding
    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    for r in range(hp):
        for c in range(hp):
            inside = padding <= r < padding + size and padding <= c < padding + size
            ax.add_patch(Rectangle((c, r), 1, 1, fc="white" if inside else "0.8", ec="0.6"))
    if kernel > hp:
        ax.set_title(f"K={kernel} > H+2P={hp}: no window fits")
    else:
        n_out = ref.conv2d_output_size(size, kernel, padding, stride)
        ax.add_patch(Rectangle((0, 0), kernel, kernel, fc="none", ec="C3", lw=2.5))
        starts = np.arange(n_out) * stride
        gx, gy = np.meshgrid(starts + 0.5, starts + 0.5)
        ax.plot(gx, gy, "o", color="C3", ms=4)
        ax.set_title(f"⌊({size} + 2·{padding} − {kernel}) / {stride}⌋ + 1 = {n_out}"
                     f"  →  output {n_out}×{n_out}", fontsize=10)
    ax.set_xlim(0, hp)
    ax.set_ylim(hp, 0)
    ax.set_aspect("equal")
    ax.axis("off")
    plt.show()


widgets.interact(show_output_size,
                 size=widgets.IntSlider(value=8, min=1, max=16, description="H"),
                 kernel=widgets.IntSlider(value=3, min=1, max=7, description="K"),
                 padding=widgets.IntSlider(value=0, min=0, max=3, description="P"),
                 stride=widgets.IntSlider(value=1, min=1, max=4, description="S"));

# %% [markdown]
# ### Receptive field
#
# The **receptive field** (感受野) of a unit is the patch of the *input image* it
# depends on; for square windows we give it as the side $r$ of that patch. One
# $3\times3$ layer sees $3\times3$ pixels. A second $3\times3$ layer on top sees
# $3\times3$ units of the first, and each of those sees $3\times3$ pixels, overlapping:
# together a $5\times5$ patch.
#
# To follow a whole stack, keep two numbers per layer $l$: its receptive field $r_l$
# and its **jump** $j_l$, the distance *in input pixels* between two neighbouring units
# of layer $l$. The input itself has $r_0 = 1$ and $j_0 = 1$.
#
# - A unit of layer $l$ looks at $K_l$ neighbouring units of layer $l-1$ along each
#   axis. Its first and last ones are $(K_l - 1)$ steps of $j_{l-1}$ pixels apart, and
#   each sees $r_{l-1}$ pixels, so $r_l = r_{l-1} + (K_l - 1)\,j_{l-1}$.
# - Two neighbouring units of layer $l$ start $S_l$ units of layer $l-1$ apart, so the
#   jump grows with every stride: $j_l = S_l\,j_{l-1}$.
# - Padding changes neither (it adds zeros around the border), but it changes the
#   output size $n_l = \lfloor (n_{l-1} + 2P_l - K_l)/S_l \rfloor + 1$.
#
# A pooling layer is a window too and follows the same rules. Strides and pooling
# make the receptive field grow fast: every later kernel takes steps of $j$ pixels.

# %% [markdown]
# ### Exercise 3.1 — `stack_geometry`
# `size` is the input height (the width behaves the same) and `layers` a list of
# windows `(kernel_size, stride, padding)`, one per layer, in order (convolutions or
# pooling, square, integers). Return a list with one pair `(n, r)` per layer: the
# output size of that layer and the receptive field of one of its units, in input
# pixels. You may assume every window fits its padded input.

# %% nbgrader={"grade_id": "stack_geometry", "solution": true}
def stack_geometry(size, layers):
    """[(output size, receptive field), ...] after each (kernel_size, stride, padding) layer."""
    ### BEGIN SOLUTION
    geometry = []
    field, jump = 1, 1
    for k, s, p in layers:
        size = (size + 2 * p - k) // s + 1
        field += (k - 1) * jump
        jump *= s
        geometry.append((size, field))
    return geometry
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_stack_geometry", "grade": true, "points": 1}
def _geometry_pairs(got, label):
    """The answer as a list of (int, int) pairs, or a clear failure."""
    try:
        return [(int(n), int(r)) for n, r in got]
    except (TypeError, ValueError):
        raise AssertionError(f"{label} must return a list of pairs (n, r), one per layer, "
                             f"got {str(got)[:80]}") from None


_RF_NO_JUMP = ("each layer adds (K - 1) steps of the previous layer's jump, not (K - 1) "
               "pixels: a stride before a layer makes its kernel reach further")
_RF_OWN_STRIDE = ("a layer's own stride does not widen its own units' view: use the jump "
                  "of the layer below, then update the jump")
_SIZE_NO_PAD = "the output size forgot the padding: n + 2P - K"
# conv 3x3 pad 1, max pool 2x2, conv 3x3 pad 1 on an 8x8 digit
_label = "stack_geometry(8, [(3, 1, 1), (2, 2, 0), (3, 1, 1)])"
check_equal(_geometry_pairs(answer(stack_geometry, 8, [(3, 1, 1), (2, 2, 0), (3, 1, 1)]),
                            _label), [(8, 3), (4, 4), (4, 8)], _label,
            mistakes={_RF_NO_JUMP: [(8, 3), (4, 4), (4, 6)],
                      _RF_OWN_STRIDE: [(8, 3), (4, 5), (4, 9)],
                      _SIZE_NO_PAD: [(6, 3), (3, 4), (1, 8)]})
_label = "stack_geometry(10, [(5, 2, 2), (3, 1, 1)])"
check_equal(_geometry_pairs(answer(stack_geometry, 10, [(5, 2, 2), (3, 1, 1)]), _label),
            [(5, 5), (5, 9)], _label,
            mistakes={_RF_NO_JUMP: [(5, 5), (5, 7)], _RF_OWN_STRIDE: [(5, 9), (5, 13)]})

# %% nbgrader={"grade_id": "test_stack_geometry_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
import dlnotes.cnn as _ref


def _geometry_variant(size, layers, mode):
    """Known wrong versions: no jump, or the layer's own stride in its increment."""
    out, field, jump = [], 1, 1
    for k, s, p in layers:
        size = (size + 2 * p - k) // s + 1
        if mode == "own":
            jump *= s
        field += (k - 1) * (1 if mode == "nojump" else jump)
        if mode != "own":
            jump *= s
        out.append((size, field))
    return out


_rng = np.random.default_rng(706)
_stacks = [(1, [(1, 1, 0)]), (32, [(7, 2, 3), (3, 2, 1), (3, 1, 1), (3, 1, 1), (2, 2, 0)]),
           (28, [(5, 1, 0), (2, 2, 0), (5, 1, 0), (2, 2, 0)]), (9, [(3, 3, 0), (3, 3, 0)])]
for _ in range(12):
    _size, _layers = int(_rng.integers(16, 64)), []
    for _ in range(int(_rng.integers(1, 5))):
        _layers.append((int(_rng.integers(1, 4)), int(_rng.integers(1, 3)),
                        int(_rng.integers(0, 2))))
    _stacks.append((_size, _layers))
for _size, _layers in _stacks:
    _label = f"stack_geometry({_size}, {_layers})"
    check_equal(_geometry_pairs(answer(stack_geometry, _size, _layers), _label),
                _ref.stack_geometry(_size, _layers), _label,
                mistakes={_RF_NO_JUMP: _geometry_variant(_size, _layers, "nojump"),
                          _RF_OWN_STRIDE: _geometry_variant(_size, _layers, "own")})
### END HIDDEN TESTS

# %% [markdown]
# ### Question 3.2 — one big kernel or a stack of small ones?
# Two ways to map 16 channels to 16 channels, every convolution with a bias:
#
# - **A**: a $3\times3$ convolution with stride 2, then a $3\times3$ convolution with
#   stride 1;
# - **B**: one $K\times K$ convolution with stride 2, whose units see exactly the same
#   input patch as the units of A's second layer.
#
# Give, as integers: `kernel_b`, the $K$ of B; `params_a` and `params_b`, the number of
# parameters (weights and biases) of A and of B. Section 1 gave the parameter count
# of a convolution.

# %% nbgrader={"grade_id": "q_kernels", "solution": true}
kernel_b = None
params_a = None
params_b = None
### BEGIN SOLUTION
kernel_b = 3 + (3 - 1) * 2
params_a = 2 * (16 * 16 * 3 * 3 + 16)
params_b = 16 * 16 * kernel_b * kernel_b + 16
### END SOLUTION

# %% nbgrader={"grade_id": "test_q_kernels", "grade": true, "points": 2}
assert None not in (kernel_b, params_a, params_b), \
    "set kernel_b, params_a and params_b to integers"
### BEGIN HIDDEN TESTS
_JUMP_HINT = ("A's first stride of 2 makes the second kernel take steps of 2 input "
              "pixels: 3 + (3 - 1) * 2")
check_equal(kernel_b, 7, "kernel_b", mistakes={_JUMP_HINT: 5})
check_equal(params_a, 2 * (16 * 16 * 9 + 16), "params_a",
            mistakes={"each of the two layers has 16 * 16 * 3 * 3 weights and 16 biases":
                          16 * 16 * 9 + 16,
                      "the biases are missing (16 per layer)": 2 * 16 * 16 * 9,
                      "a kernel spans all 16 input channels: C_out * C_in * K * K + C_out":
                          2 * (16 * 9 + 16)})
check_equal(params_b, 16 * 16 * 49 + 16, "params_b",
            mistakes={_JUMP_HINT: 16 * 16 * 25 + 16,
                      "the biases are missing (16)": 16 * 16 * 49})
### END HIDDEN TESTS

# %% [markdown]
# The small kernels win twice: fewer weights for the same view, and a non-linearity
# between the two layers. This is why VGG and most later networks stack $3\times3$
# kernels. The figure below shows, for a stack of $3\times3$ convolutions, how much each
# input pixel contributes to the centre unit of the last layer: the gradient of that
# unit with respect to the input when every kernel is all ones. The red square is the
# receptive field of Exercise 3.1. Pixels near its centre lie on many more paths than
# those at its edge, so the *effective* receptive field is smaller than the square and
# roughly Gaussian.

# %% tags=["demo"]
def show_receptive_field(depth=4, first_stride=1):
    layers = [(3, first_stride, 0)] + [(3, 1, 0)] * (depth - 1)
    size = 25
    n_out, field = ref.stack_geometry(size, layers)[-1]
    shapes, x_shape = [], (1, 1, size, size)
    for k, s, _ in layers:                       # the input shape of every layer
        shapes.append(x_shape)
        side = (x_shape[2] - k) // s + 1
        x_shape = (1, 1, side, side)
    grad = np.zeros(x_shape)
    grad[0, 0, n_out // 2, n_out // 2] = 1.0     # d(centre unit) / d(itself)
    for (k, s, _), shape in zip(layers[::-1], shapes[::-1], strict=True):
        grad = ref.conv2d_backward_cols(grad, np.zeros(shape), np.ones((1, 1, k, k)),
                                        ref.im2col, ref.col2im, stride=s)[0]
    g = grad[0, 0]
    rows, cols = np.flatnonzero(g.sum(1)), np.flatnonzero(g.sum(0))
    fig, ax = plt.subplots(figsize=(4.4, 4.4))
    ax.imshow(g, cmap="viridis")
    ax.add_patch(Rectangle((cols[0] - 0.5, rows[0] - 0.5), field, field, fc="none", ec="C3",
                           lw=2))
    ax.set_title(f"{depth} layers 3×3, first stride {first_stride}: r = {field}",
                 fontsize=10)
    ax.axis("off")
    plt.show()


widgets.interact(show_receptive_field,
                 depth=widgets.IntSlider(value=4, min=1, max=6, description="layers"),
                 first_stride=widgets.Dropdown(options=[1, 2], value=1,
                                               description="stride 1st"));

# %% [markdown]
# ## 4. Channels and the forward pass
#
# A colour image has 3 **channels** (通道) (R, G, B), a grey one 1, and the output of a
# layer with 16 kernels has 16 channels, one **feature map** (特征图) per kernel. A
# kernel spans *all* input channels: the weights have shape
# $(C_{out}, C_{in}, K_H, K_W)$, and output channel $o$ sums over the input channels:
#
# $$\text{out}[n, o, i, j] = b_o + \sum_{c=0}^{C_{in}-1}\sum_{k=0}^{K_H-1}\sum_{l=0}^{K_W-1}
#   w[o, c, k, l]\; x_p[n, c,\ S i + k,\ S j + l],$$
#
# where $x_p$ is the input zero-padded by $P$ on each side of $H$ and $W$
# (`np.pad(x, ((0, 0), (0, 0), (P, P), (P, P)))`).
#
# The cell below is this formula written as loops over the output positions, one
# window at a time. It is a **teaching reference**, not an exercise: it reads like the
# formula, and you can compare your faster versions with it. It is slow, because every
# output position costs a few small numpy calls from Python.

# %%
def conv2d_forward_loops(x, w, b, stride=1, padding=0):
    """The convolution formula as loops over the output positions (teaching reference)."""
    n_img, _, height, wid = x.shape
    n_ker, _, k_h, k_w = w.shape
    out_h = (height + 2 * padding - k_h) // stride + 1
    out_w = (wid + 2 * padding - k_w) // stride + 1
    padded = np.pad(x, [(0, 0), (0, 0), (padding, padding), (padding, padding)])
    result = np.zeros((n_img, n_ker, out_h, out_w))
    for row in range(out_h):
        for col in range(out_w):
            top, left = row * stride, col * stride
            window = padded[:, :, top:top + k_h, left:left + k_w]          # (N, C_in, KH, KW)
            result[:, :, row, col] = np.tensordot(window, w, axes=([1, 2, 3], [1, 2, 3])) + b
    return result


# %% [markdown]
# ## 5. im2col: a convolution as one matrix product
#
# Look at the formula again with $n$ and $(i, j)$ fixed: it is a dot product between
# kernel $o$, flattened to $C_{in}K_HK_W$ numbers, and the window at $(i, j)$, flattened
# the same way. If every window is copied into a **column** of a matrix, all these dot
# products become one matrix product. That copy is **im2col** (image to columns):
#
# $$\text{cols}[n,\ (c, k, l),\ (i, j)] = x_p[n, c,\ S i + k,\ S j + l],$$
#
# a $(C_{in}K_HK_W) \times (O_H O_W)$ matrix per image, with row $(c, k, l)$ at index
# $c\,K_HK_W + k\,K_W + l$ (the order of `w.reshape(C_out, -1)`) and column $(i, j)$ at
# index $i\,O_W + j$. This is the layout of `torch.nn.functional.unfold`. With
# $W$ = `w.reshape(C_out, -1)`, the convolution of image $n$ is
#
# $$\text{out}_n = W\,\text{cols}_n + b \qquad (C_{out} \times O_HO_W),$$
#
# reshaped to $(C_{out}, O_H, O_W)$. Why is it fast? The arithmetic is the same, but it
# runs in one call to BLAS (the optimised matrix library behind `@`), which uses vector
# instructions, the caches and several cores, instead of thousands of small numpy calls
# from Python. The price is memory: each pixel is copied up to $K_HK_W$ times. GPU
# libraries use the same idea or related ones (FFT, Winograd).
#
# Building `cols` with a loop over the windows would bring the slow loop back. Look at
# it the other way round: fix one kernel offset $(k, l)$. As $(i, j)$ runs over all
# windows, the pixel it reads, $x_p[\,\cdot, \cdot, Si + k, Sj + l]$, moves in steps of
# $S$ in both directions, so the entries of *all* windows at that offset form one
# strided slice of $x_p$. There are only $K_HK_W$ offsets (9 for a $3\times3$ kernel),
# whatever the image size.

# %% [markdown]
# ### Exercise 5.1 — `im2col`
# `x` has shape `(N, C, H, W)`; `kernel_size` is an int `K` (a `K×K` window) or a pair
# `(KH, KW)`; `stride` and `padding` are ints. Return `cols` of shape
# `(N, C*KH*KW, OH*OW)` with the layout above:
# `cols[n, c*KH*KW + k*KW + l, i*OW + j]` is the padded input at
# `[n, c, stride*i + k, stride*j + l]`. No Python loop over the output positions
# (a loop over the kernel offsets is fine).

# %% nbgrader={"grade_id": "im2col", "solution": true}
def im2col(x, kernel_size, stride=1, padding=0):
    """Every window of x as a column: (N, C*KH*KW, OH*OW), the layout of torch's unfold."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    n, c, h, w = x.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    cols = np.empty((n, c, kh, kw, oh, ow))
    for k in range(kh):
        for l in range(kw):
            cols[:, :, k, l] = xp[:, :, k:k + stride * oh:stride, l:l + stride * ow:stride]
    return cols.reshape(n, c * kh * kw, oh * ow)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_im2col", "grade": true, "points": 2}
from dlnotes import cnn as _ref

_ROWS_KLC = ("the rows are in the order (k, l, c); they must be (c, k, l), the order of "
             "w.reshape(C_out, -1): all offsets of channel 0 first")
_ONE_ROW_PER_WINDOW = "one row per window: the windows are the columns, (N, C*KH*KW, OH*OW)"


_NO_TRANSPOSE = ("the numbers are right but in the wrong places: an array of windows "
                 "(N, C, OH, OW, KH, KW) must have its axes reordered to (N, C, KH, KW, OH, OW) "
                 "(np.transpose) before the reshape; reshape alone only regroups the numbers")


def _rows_klc(cols, c):
    """The same columns with the rows ordered (k, l, c) instead of (c, k, l)."""
    n, rows, p = cols.shape
    return cols.reshape(n, c, rows // c, p).transpose(0, 2, 1, 3).reshape(n, rows, p)


def _reshaped_without_transpose(cols, c, kernel, out_hw):
    """What (N, C, OH, OW, KH, KW) windows give when reshaped without reordering the axes."""
    n, rows, p = cols.shape
    return (cols.reshape(n, c, *kernel, *out_hw).transpose(0, 1, 4, 5, 2, 3)
            .reshape(n, rows, p))


# A 3x4 image 0..11 and a 2x2 window: 6 windows, each a column of 4 pixels.
_x = np.arange(12.0).reshape(1, 1, 3, 4)
_got = answer(im2col, _x, 2)
check_equal(np.shape(_got), (1, 4, 6), "shape of im2col(0..11 as 3x4, kernel_size=2)",
            mistakes={_ONE_ROW_PER_WINDOW: (1, 6, 4)})
check_close(_got, [[[0, 1, 2, 4, 5, 6], [1, 2, 3, 5, 6, 7], [4, 5, 6, 8, 9, 10],
                    [5, 6, 7, 9, 10, 11]]], "im2col(0..11 as 3x4, kernel_size=2)",
            mistakes={"the entries of a window are taken column by column; use row-major "
                      "order (k, l)": [[[0, 1, 2, 4, 5, 6], [4, 5, 6, 8, 9, 10],
                                        [1, 2, 3, 5, 6, 7], [5, 6, 7, 9, 10, 11]]],
                      _NO_TRANSPOSE: _reshaped_without_transpose(
                          np.asarray([[[0, 1, 2, 4, 5, 6], [1, 2, 3, 5, 6, 7],
                                       [4, 5, 6, 8, 9, 10], [5, 6, 7, 9, 10, 11]]]), 1,
                          (2, 2), (2, 3))})
# Two channels, a 3x2 window, stride 2 and padding 1.
_x = np.arange(2 * 5 * 4.0).reshape(1, 2, 5, 4)
_want = _ref.im2col(_x, (3, 2), 2, 1)
_got = answer(im2col, _x, (3, 2), 2, 1)
check_equal(np.shape(_got), _want.shape,
            "shape of im2col on x (1, 2, 5, 4), kernel_size=(3, 2), stride=2, padding=1",
            mistakes={"the padding is missing: pad P zeros on each side first":
                          _ref.im2col(_x, (3, 2), 2, 0).shape,
                      "the stride is missing: windows start every S pixels":
                          _ref.im2col(_x, (3, 2), 1, 1).shape})
check_close(_got, _want, "im2col on x (1, 2, 5, 4), kernel_size=(3, 2), stride=2, padding=1",
            atol=1e-5, rtol=1e-6,
            mistakes={_ROWS_KLC: _rows_klc(_want, 2),
                      _NO_TRANSPOSE: _reshaped_without_transpose(_want, 2, (3, 2), (3, 3))})

# %% nbgrader={"grade_id": "test_im2col_hidden", "grade": true, "points": 4}
### BEGIN HIDDEN TESTS
import torch as _torch

import dlnotes.cnn as _ref


def _unfold(x, kernel_size, stride, padding):
    """torch.nn.functional.unfold in float64, as numpy."""
    return _torch.nn.functional.unfold(_torch.tensor(x), kernel_size, stride=stride,
                                       padding=padding).numpy()


_rng = np.random.default_rng(707)
for _xs, _k, _s, _p in (((2, 3, 7, 6), 3, 1, 0), ((3, 2, 6, 6), 3, 1, 1), ((1, 1, 9, 8), 4, 3, 2),
                        ((2, 2, 7, 7), (3, 2), 2, 1), ((1, 3, 5, 5), 5, 1, 0),
                        ((2, 2, 6, 5), 1, 1, 0), ((1, 4, 8, 8), (2, 3), 2, 0),
                        ((2, 1, 6, 7), 2, 2, 2)):
    _x = _rng.normal(size=_xs)
    _kk = (_k, _k) if np.ndim(_k) == 0 else _k
    _want = _unfold(_x, _kk, _s, _p)
    _label = f"im2col on x {_xs}, kernel_size={_k}, stride={_s}, padding={_p} (torch's unfold)"
    _got = answer(im2col, _x, _k, _s, _p)
    check_equal(np.shape(_got), _want.shape, f"shape of {_label}",
                mistakes={_ONE_ROW_PER_WINDOW: (_want.shape[0], _want.shape[2],
                                                _want.shape[1])})
    _n, _rows, _pos = _want.shape
    _oh = (_xs[2] + 2 * _p - _kk[0]) // _s + 1
    _ow = _pos // _oh
    check_close(_got, _want, _label, atol=1e-5, rtol=1e-6,
                mistakes={_ROWS_KLC: _rows_klc(_want, _xs[1]),
                          _NO_TRANSPOSE: _reshaped_without_transpose(_want, _xs[1], _kk,
                                                                     (_oh, _ow)),
                          "the windows are numbered column by column; use i * OW + j":
                              _want.reshape(_n, _rows, _oh, _ow).transpose(0, 1, 3, 2)
                                   .reshape(_n, _rows, _pos)})
    check_close(_got, _ref.im2col(_x, _k, _s, _p), _label, atol=1e-5, rtol=1e-6)
### END HIDDEN TESTS

# %% [markdown]
# ### col2im, the adjoint of im2col
#
# The backward pass needs the way back. A pixel of $x_p$ is copied into every column
# whose window covers it, so by the chain rule its gradient is the **sum** of the
# gradients of all its copies. Going from a gradient `dcols` of the columns' shape to a
# gradient of the image's shape — add every entry back to the pixel it was copied
# from, then drop the padding border — is **col2im** (`torch.nn.functional.fold`).
#
# There is a compact way to say this. im2col is a linear map $A$ from images to columns
# (each column entry is one pixel), and the gradient of a linear map is its transpose:
# col2im is $A^\top$, the **adjoint** (伴随) of im2col. For every image $x$ and every
# array $c$ of the columns' shape,
#
# $$\langle \text{im2col}(x),\ c\rangle = \langle x,\ \text{col2im}(c)\rangle,$$
#
# where $\langle\cdot,\cdot\rangle$ is the sum of the elementwise products. The tests
# check exactly this identity. A note on a common confusion: col2im does **not** undo
# im2col. `col2im(im2col(x))` multiplies each pixel by the number of windows covering it.

# %% [markdown]
# ### Exercise 5.2 — `col2im`
# `cols` has shape `(N, C*KH*KW, OH*OW)` in the layout of Exercise 5.1, `x_shape` is
# `(N, C, H, W)`, and `kernel_size`, `stride` and `padding` are as in Exercise 5.1.
# Return an array of shape `x_shape`: every entry of `cols` added to the pixel of the
# padded image it was copied from, with the padding then cropped away. No Python loop
# over the output positions.

# %% nbgrader={"grade_id": "col2im", "solution": true}
def col2im(cols, x_shape, kernel_size, stride=1, padding=0):
    """Add every column entry back to its pixel; the adjoint of im2col. Returns x_shape."""
    ### BEGIN SOLUTION
    kh, kw = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    n, c, h, w = x_shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    cols = np.asarray(cols, dtype=float).reshape(n, c, kh, kw, oh, ow)
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for k in range(kh):
        for l in range(kw):
            xp[:, :, k:k + stride * oh:stride, l:l + stride * ow:stride] += cols[:, :, k, l]
    return xp[:, :, padding:padding + h, padding:padding + w]
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_col2im", "grade": true, "points": 2}
from dlnotes import cnn as _ref

_OVERWRITE = ("a pixel covered by several windows must get the sum of all its copies; "
              "add with += instead of assigning with =")
_PAD_KEPT = "the padding border is still there: crop P rows and columns on each side"
# Columns of ones: each pixel receives the number of 2x2 windows that cover it.
check_close(answer(col2im, np.ones((1, 4, 4)), (1, 1, 3, 3), 2),
            [[[[1.0, 2.0, 1.0], [2.0, 4.0, 2.0], [1.0, 2.0, 1.0]]]],
            "col2im(ones of shape (1, 4, 4), x_shape=(1, 1, 3, 3), kernel_size=2)",
            mistakes={_OVERWRITE: np.ones((1, 1, 3, 3))})
# The adjoint identity <im2col(x), c> = <x, col2im(c)> on random arrays.
_rng = np.random.default_rng(7)
_x = _rng.normal(size=(2, 2, 5, 4))
_cols = _ref.im2col(_x, (3, 2), 2, 1)
_c = _rng.normal(size=_cols.shape)
_label = (f"col2im on cols {_cols.shape}, x_shape=(2, 2, 5, 4), kernel_size=(3, 2), stride=2, "
          "padding=1")
_got = answer(col2im, _c, (2, 2, 5, 4), (3, 2), 2, 1)
check_equal(np.shape(_got), (2, 2, 5, 4), f"shape of {_label}",
            mistakes={_PAD_KEPT: (2, 2, 7, 6)})
check_close(np.sum(_x * np.asarray(_got)), np.sum(_cols * _c),
            f"<x, col2im(c)> must equal <im2col(x), c> for {_label}", atol=1e-4, rtol=1e-5)

# %% nbgrader={"grade_id": "test_col2im_hidden", "grade": true, "points": 3}
### BEGIN HIDDEN TESTS
import torch as _torch

import dlnotes.cnn as _ref


def _fold_overwrite(cols, x_shape, kernel, stride, padding):
    """col2im that assigns instead of adding (a known mistake)."""
    n, c, h, w = x_shape
    kh, kw = kernel
    oh, ow = (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1
    cols = cols.reshape(n, c, kh, kw, oh, ow)
    xp = np.zeros((n, c, h + 2 * padding, w + 2 * padding))
    for k in range(kh):
        for l in range(kw):
            xp[:, :, k:k + stride * oh:stride, l:l + stride * ow:stride] = cols[:, :, k, l]
    return xp[:, :, padding:padding + h, padding:padding + w]


_rng = np.random.default_rng(708)
for _xs, _k, _s, _p in (((2, 3, 7, 6), 3, 1, 0), ((3, 2, 6, 6), 3, 1, 1), ((1, 1, 9, 8), 4, 3, 2),
                        ((2, 2, 7, 7), (3, 2), 2, 1), ((1, 3, 5, 5), 5, 1, 2),
                        ((1, 4, 8, 8), (2, 3), 2, 0), ((2, 1, 6, 7), 3, 2, 2)):
    _kk = (_k, _k) if np.ndim(_k) == 0 else _k
    _x = _rng.normal(size=_xs)
    _cols = _ref.im2col(_x, _kk, _s, _p)
    _c = _rng.standard_normal(_cols.shape)
    _label = f"col2im on x_shape={_xs}, kernel_size={_k}, stride={_s}, padding={_p}"
    _got = answer(col2im, _c, _xs, _k, _s, _p)
    check_equal(np.shape(_got), _xs, f"shape of {_label}",
                mistakes={_PAD_KEPT: (*_xs[:2], _xs[2] + 2 * _p, _xs[3] + 2 * _p)})
    _fold = _torch.nn.functional.fold(_torch.tensor(_c), _xs[2:], _kk, stride=_s,
                                      padding=_p).numpy()
    check_close(_got, _fold, f"{_label} (torch's fold)", atol=1e-5, rtol=1e-5,
                mistakes={_OVERWRITE: _fold_overwrite(_c, _xs, _kk, _s, _p)})
    check_close(np.sum(np.asarray(_got) * _x), np.sum(_c * _cols),
                f"the adjoint identity <x, col2im(c)> = <im2col(x), c> for {_label}",
                atol=1e-4, rtol=1e-5)
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 5.3 — `conv2d_forward`
# Write the convolution as one matrix product over the columns. `x` is
# `(N, C_in, H, W)`, `w` is `(C_out, C_in, KH, KW)`, `b` is `(C_out,)`, `stride` and
# `padding` are ints; return `out` of shape `(N, C_out, OH, OW)`, the formula of
# section 4 (no kernel flip).
#
# `im2col` is a **parameter**: a function with the contract of Exercise 5.1, called as
# `im2col(x, (KH, KW), stride, padding)`. Use the one you are given. The demos pass
# your own im2col; the grader passes a correct one, so a slip in Exercise 5.1 does not
# cost you points here. No Python loop over the output positions.

# %% nbgrader={"grade_id": "conv2d_forward", "solution": true}
def conv2d_forward(x, w, b, im2col, stride=1, padding=0):
    """Cross-correlation of x (N, C_in, H, W) with w (C_out, C_in, KH, KW), plus b."""
    ### BEGIN SOLUTION
    x, w, b = (np.asarray(a, dtype=float) for a in (x, w, b))
    n, _, h, width = x.shape
    c_out, _, kh, kw = w.shape
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (width + 2 * padding - kw) // stride + 1
    cols = im2col(x, (kh, kw), stride, padding)                # (N, C_in*KH*KW, OH*OW)
    out = w.reshape(c_out, -1) @ cols + b[:, None]             # (N, C_out, OH*OW)
    return out.reshape(n, c_out, oh, ow)
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_conv2d_forward", "grade": true, "points": 1}
from dlnotes import cnn as _ref

_FLIPPED = ("the kernel is flipped: deep-learning convolution is a cross-correlation, "
            "w[k, l] multiplies x[i + k, j + l]")
_NO_BIAS = "the bias b is missing"
_W_ORDER = ("the kernels are flattened in another order than the rows of im2col: "
            "w.reshape(C_out, -1) gives (c, k, l), the order of the rows")
# A 4x4 image 0..15 and a 2x2 kernel of ones, stride 2: each output is a 2x2 block sum.
_x = np.arange(16.0).reshape(1, 1, 4, 4)
check_close(answer(conv2d_forward, _x, np.ones((1, 1, 2, 2)), np.zeros(1), _ref.im2col,
                   stride=2),
            [[[[10.0, 18.0], [42.0, 50.0]]]],
            "conv2d_forward(0..15 as 4x4, ones 2x2, b=0, stride=2)", atol=1e-4, rtol=1e-6)
# The classic vertical-edge kernel on a 4x4 image with a bright right half.
_x = np.array([[[[0, 0, 1, 1]] * 4]], dtype=float)
_w = np.array([[[[1.0, 0.0, -1.0]] * 3]])
check_close(answer(conv2d_forward, _x, _w, np.array([0.5]), _ref.im2col),
            [[[[-2.5, -2.5], [-2.5, -2.5]]]],
            "conv2d_forward(image [0 0 1 1] in every row, kernel [1 0 -1] in every row, b=0.5)",
            atol=1e-5, rtol=1e-6,
            mistakes={_FLIPPED: [[[[3.5, 3.5], [3.5, 3.5]]]],
                      _NO_BIAS: [[[[-3.0, -3.0], [-3.0, -3.0]]]]})
# Two input channels, three kernels, padding 1.
_rng = np.random.default_rng(17)
_x, _w, _b = _rng.normal(size=(2, 2, 4, 5)), _rng.normal(size=(3, 2, 3, 3)), _rng.normal(size=3)
_want = conv2d_forward_loops(_x, _w, _b, padding=1)
check_close(answer(conv2d_forward, _x, _w, _b, _ref.im2col, padding=1), _want,
            "conv2d_forward on x (2, 2, 4, 5), w (3, 2, 3, 3), padding=1", atol=1e-5, rtol=1e-5,
            mistakes={_W_ORDER: conv2d_forward_loops(
                _x, _w.transpose(0, 2, 3, 1).reshape(_w.shape), _b, padding=1)})

# %% nbgrader={"grade_id": "test_conv2d_forward_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
import dlnotes.cnn as _ref


def _w_other_order(w):
    """Kernels whose flattening in (k, l, c) order equals w's in (c, k, l) order."""
    return w.transpose(0, 2, 3, 1).reshape(w.shape)


_rng = np.random.default_rng(702)
for _xs, _ws, _s, _p in (((2, 3, 7, 7), (4, 3, 3, 3), 1, 0), ((2, 3, 7, 6), (4, 3, 3, 3), 1, 1),
                         ((1, 2, 8, 8), (3, 2, 3, 2), 2, 1), ((3, 1, 5, 5), (2, 1, 5, 5), 1, 0),
                         ((1, 4, 9, 7), (2, 4, 4, 3), 3, 2), ((2, 1, 6, 6), (1, 1, 1, 1), 1, 0)):
    _x, _w, _b = _rng.normal(size=_xs), _rng.normal(size=_ws), _rng.normal(size=_ws[0])
    _want, _ = _ref.conv2d_forward(_x, _w, _b, stride=_s, padding=_p)
    _label = f"conv2d_forward on x {_xs}, w {_ws}, stride={_s}, padding={_p}"
    _got = answer(conv2d_forward, _x, _w, _b, _ref.im2col, stride=_s, padding=_p)
    check_equal(np.shape(_got), _want.shape, f"shape of {_label}")
    _flip = _ref.conv2d_forward(_x, _w[:, :, ::-1, ::-1], _b, stride=_s, padding=_p)[0]
    _mistakes = {_FLIPPED: _flip,
                 _NO_BIAS: _ref.conv2d_forward(_x, _w, None, stride=_s, padding=_p)[0]}
    if _ws[1] > 1:
        _mistakes[_W_ORDER] = _ref.conv2d_forward(_x, _w_other_order(_w), _b, stride=_s,
                                                  padding=_p)[0]
    check_close(_got, _want, _label, atol=1e-5, rtol=1e-5, mistakes=_mistakes)
### END HIDDEN TESTS

# %% [markdown]
# ## 6. The backward pass of a convolution
#
# Write $\delta = \partial L/\partial\,\text{out}$, of the output's shape. For one image
# the forward pass is $\text{out}_n = W\,\text{cols}_n + b$: a linear layer (Chapter 4)
# whose input is $\text{cols}_n$, with one "example" per output position. So the rules
# of the linear layer apply, position by position, and then:
#
# - every weight is used at every output position of every image, so $\partial L/\partial W$
#   and $\partial L/\partial b$ **sum** over the batch and the positions;
# - $\partial L/\partial\,\text{cols}_n$ has the shape of $\text{cols}_n$, and
#   col2im turns it into $\partial L/\partial x$: the gradients of all copies of a pixel
#   add up, and the padding is dropped.
#
# In index form, the weight gradient is
#
# $$\frac{\partial L}{\partial w[o,c,k,l]} = \sum_{n,i,j}\delta[n,o,i,j]\;
#   x_p[n,c,\ Si+k,\ Sj+l].$$
#
# For stride 1, $\partial L/\partial x$ works out to a "full" convolution of $\delta$ with
# the *flipped* kernel: this is where the kernel flip of signal processing reappears.

# %% [markdown]
# ### Exercise 6.1 — `conv2d_backward`
# Given `dout` $=\delta$ of shape `(N, C_out, OH, OW)` and the forward inputs `x`, `w`,
# `stride` and `padding`, return the tuple `(dx, dw, db)` with the shapes of `x`, `w`
# and `(C_out,)`. `im2col` and `col2im` are **parameters** with the contracts of
# Exercises 5.1 and 5.2, called as `im2col(x, (KH, KW), stride, padding)` and
# `col2im(cols, x.shape, (KH, KW), stride, padding)`; as in Exercise 5.3, the demos
# pass yours and the grader passes correct ones. No Python loop over the output
# positions.

# %% nbgrader={"grade_id": "conv2d_backward", "solution": true}
def conv2d_backward(dout, x, w, im2col, col2im, stride=1, padding=0):
    """Gradients (dx, dw, db) of conv2d_forward(x, w, b, im2col, stride, padding) given dout."""
    ### BEGIN SOLUTION
    dout, x, w = (np.asarray(a, dtype=float) for a in (dout, x, w))
    n, c_out = dout.shape[:2]
    cols = im2col(x, w.shape[2:], stride, padding)              # (N, C_in*KH*KW, OH*OW)
    d = dout.reshape(n, c_out, -1)                              # (N, C_out, OH*OW)
    db = d.sum(axis=(0, 2))
    dw = (d @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    dcols = w.reshape(c_out, -1).T @ d                          # (N, C_in*KH*KW, OH*OW)
    dx = col2im(dcols, x.shape, w.shape[2:], stride, padding)
    return dx, dw, db
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_conv2d_backward", "grade": true, "points": 2}
from dlnotes import cnn as _ref

def _three(got, name):
    try:
        first, second, third = got
    except (TypeError, ValueError):
        raise AssertionError(f"{name} must return a tuple of three arrays (dx, dw, db), "
                             f"got {str(got)[:80]}") from None
    return first, second, third


_DB_MEAN = "db must sum dout over the batch and the positions, not average it"
_DW_MEAN = "dw must sum over the images of the batch, not average them"
_DW_ONE = "dw must add the contributions of every image of the batch, not only the first"
# 4x4 image 0..15, 2x2 kernel of ones, stride 2, dout = ones: windows do not overlap.
_x = np.arange(16.0).reshape(1, 1, 4, 4)
_dx, _dw, _db = _three(answer(conv2d_backward, np.ones((1, 1, 2, 2)), _x, np.ones((1, 1, 2, 2)),
                              _ref.im2col, _ref.col2im, stride=2), "conv2d_backward")
check_close(_db, [4.0], "db for dout = ones of shape (1, 1, 2, 2)", atol=1e-5,
            mistakes={_DB_MEAN: [1.0]})
check_close(_dw, [[[[20.0, 24.0], [36.0, 40.0]]]],
            "dw (each weight: the sum of the 4 pixels it touched)", atol=1e-4, rtol=1e-6,
            mistakes={"dw must sum over the positions, not average": [[[[5.0, 6.0],
                                                                        [9.0, 10.0]]]]})
check_close(_dx, np.ones((1, 1, 4, 4)), "dx (each pixel is in exactly one window)", atol=1e-5)
# Two images: the gradients of the weights add up over the batch.
_x = np.stack([np.arange(16.0).reshape(1, 4, 4), np.ones((1, 4, 4))])
_dx, _dw, _db = _three(answer(conv2d_backward, np.ones((2, 1, 2, 2)), _x, np.ones((1, 1, 2, 2)),
                              _ref.im2col, _ref.col2im, stride=2), "conv2d_backward")
check_close(_db, [8.0], "db for dout = ones of shape (2, 1, 2, 2)", atol=1e-5,
            mistakes={_DB_MEAN: [1.0], "db must also sum over the batch": [4.0]})
check_close(_dw, [[[[24.0, 28.0], [40.0, 44.0]]]], "dw for two images (0..15 and all ones)",
            atol=1e-4, rtol=1e-6,
            mistakes={_DW_MEAN: [[[[12.0, 14.0], [20.0, 22.0]]]],
                      _DW_ONE: [[[[20.0, 24.0], [36.0, 40.0]]]]})
check_equal(np.shape(_dx), (2, 1, 4, 4), "shape of dx for two images")

# %% nbgrader={"grade_id": "test_conv2d_backward_hidden", "grade": true, "points": 4}
### BEGIN HIDDEN TESTS
import time as _time

import dlnotes.cnn as _ref
from dlnotes import losses as _losses
from dlnotes.backprop import numerical_gradient as _numgrad


def _numeric_grads(x, w, b, dout, s, p):
    """Gradient check: (dx, dw, db) of L = sum(conv(x, w, b) * dout) by finite differences."""
    def loss(xx, ww, bb):
        return np.sum(_ref.conv2d_forward(xx, ww, bb, stride=s, padding=p)[0] * dout)
    return (_numgrad(lambda v: loss(v, w, b), x), _numgrad(lambda v: loss(x, v, b), w),
            _numgrad(lambda v: loss(x, w, v), b))


_rng = np.random.default_rng(703)
for _xs, _ws, _s, _p in (((2, 3, 5, 5), (4, 3, 3, 3), 1, 0), ((2, 2, 6, 5), (3, 2, 3, 3), 1, 1),
                         ((1, 2, 7, 7), (2, 2, 3, 2), 2, 1), ((3, 1, 4, 4), (2, 1, 2, 2), 2, 0),
                         ((1, 3, 6, 6), (2, 3, 4, 4), 3, 2)):
    _x, _w, _b = _rng.normal(size=_xs), _rng.normal(size=_ws), _rng.normal(size=_ws[0])
    _out, _cache = _ref.conv2d_forward(_x, _w, _b, stride=_s, padding=_p)
    _dout = _rng.normal(size=_out.shape)
    _want_dx, _want_dw, _want_db = _ref.conv2d_backward(_dout, _cache)
    _label = f"x {_xs}, w {_ws}, stride={_s}, padding={_p}"
    _dx, _dw, _db = _three(answer(conv2d_backward, _dout, _x, _w, _ref.im2col, _ref.col2im,
                                  stride=_s, padding=_p), "conv2d_backward")
    _num_dx, _num_dw, _num_db = _numeric_grads(_x, _w, _b, _dout, _s, _p)
    check_close(_db, _num_db, f"db on {_label} (checked by finite differences)", atol=1e-4,
                rtol=1e-5,
                mistakes={"db must sum dout over the batch, not average it": _want_db / _xs[0],
                          "db must sum dout over the positions (i, j), not average it":
                              _want_db / _out[0, 0].size})
    check_close(_dw, _num_dw, f"dw on {_label} (checked by finite differences)", atol=1e-4,
                rtol=1e-5,
                mistakes={"dw was computed with the kernel window flipped":
                              _want_dw[:, :, ::-1, ::-1],
                          "dw must sum over the batch, not average": _want_dw / _xs[0]})
    check_equal(np.shape(_dx), _xs, f"shape of dx on {_label}")
    check_close(_dx, _num_dx, f"dx on {_label} (checked by finite differences)", atol=1e-4,
                rtol=1e-5)
    check_close(_dx, _want_dx, f"dx on {_label}", atol=1e-5, rtol=1e-5)

# A short training run: two convolutions learn to tell vertical bars from horizontal ones.
# The forward passes, ReLU, pooling and loss are the reference's; only the gradients of
# the two convolutions come from conv2d_backward. The fixed head reads the global average
# of 4 feature maps: maps 0-1 vote "vertical", maps 2-3 "horizontal".
_rng = np.random.default_rng(709)
_n = 48
_y = np.arange(_n) % 2                                   # 0 = vertical bar, 1 = horizontal
_imgs = 0.1 * _rng.normal(size=(_n, 1, 6, 6))
for _i, _pos in enumerate(_rng.integers(0, 6, size=_n)):
    if _y[_i] == 0:
        _imgs[_i, 0, :, _pos] += 1.0
    else:
        _imgs[_i, 0, _pos, :] += 1.0
_head = np.array([[1.0, 1.0, -1.0, -1.0], [-1.0, -1.0, 1.0, 1.0]])
_params = [0.3 * _rng.normal(size=(4, 1, 3, 3)), np.zeros(4),
           0.3 * _rng.normal(size=(4, 4, 3, 3)), np.zeros(4)]


def _bars_loss(params, grads_from):
    """Loss of the tiny CNN; with grads_from, also the four conv gradients."""
    w1, b1, w2, b2 = params
    a1 = _ref.conv2d_forward(_imgs, w1, b1, padding=1)[0]
    h1 = np.maximum(a1, 0)
    a2 = _ref.conv2d_forward(h1, w2, b2, padding=1)[0]
    h2 = np.maximum(a2, 0)
    logits = h2.mean(axis=(2, 3)) @ _head.T
    loss = _losses.cross_entropy(logits, _y)
    if grads_from is None:
        return loss, None
    dh2 = (_losses.cross_entropy_grad(logits, _y) @ _head)[:, :, None, None] / 36.0
    da2 = np.broadcast_to(dh2, a2.shape) * (a2 > 0)
    dh1, dw2, db2 = _three(answer(grads_from, da2, h1, w2, _ref.im2col, _ref.col2im,
                                  padding=1), "conv2d_backward")
    _, dw1, db1 = _three(answer(grads_from, np.asarray(dh1) * (a1 > 0), _imgs, w1,
                                _ref.im2col, _ref.col2im, padding=1), "conv2d_backward")
    return loss, [dw1, db1, dw2, db2]


_LOSS_START_BARS = _bars_loss(_params, None)[0]
_t0 = _time.perf_counter()
for _step in range(40):
    _, _grads = _bars_loss(_params, conv2d_backward)
    _params = [_q - 1.0 * np.asarray(_g) for _q, _g in zip(_params, _grads, strict=True)]
_loss_end = _bars_loss(_params, None)[0]
assert np.isfinite(_loss_end) and _loss_end < 0.1, (
    f"40 steps of gradient descent on a two-convolution network, with the gradients of "
    f"your conv2d_backward, took the training loss from {_LOSS_START_BARS:.3f} to "
    f"{_loss_end:.3f}; correct gradients bring it below 0.1. Check dx, which carries the "
    f"gradient down to the first convolution, and that dw and db sum over the batch")
### END HIDDEN TESTS

# %% [markdown]
# A **gradient check** (梯度检验) compares such formulas with finite differences
# (Chapter 4). The demo checks your `conv2d_backward` (with your `im2col` and `col2im`)
# on a small random case. If one of them is still a stub, the reference stands in for
# it, and the line printed above the numbers says which.

# %% tags=["demo"]
from dlnotes import mine
from dlnotes.backprop import numerical_gradient

layers = mine.own(globals(), "07_cnn", ["im2col", "col2im", "conv2d_forward",
                                        "conv2d_backward"])


def conv(x, w, b, stride=1, padding=0):
    """Your convolution with your im2col."""
    return layers.conv2d_forward(x, w, b, layers.im2col, stride, padding)


def conv_grads(dout, x, w, stride=1, padding=0):
    """Your (dx, dw, db), with your im2col and col2im."""
    return layers.conv2d_backward(dout, x, w, layers.im2col, layers.col2im, stride, padding)


rng = np.random.default_rng(0)
x0, w0, b0 = rng.normal(size=(2, 3, 6, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
g0 = rng.normal(size=conv(x0, w0, b0, 2, 1).shape)
dx0, dw0, db0 = conv_grads(g0, x0, w0, 2, 1)
for name, analytic, numeric in (
        ("dx", dx0, numerical_gradient(lambda v: np.sum(conv(v, w0, b0, 2, 1) * g0), x0)),
        ("dw", dw0, numerical_gradient(lambda v: np.sum(conv(x0, v, b0, 2, 1) * g0), w0)),
        ("db", db0, numerical_gradient(lambda v: np.sum(conv(x0, w0, v, 2, 1) * g0), b0))):
    print(f"{name}: max |analytic - numerical| = {np.abs(analytic - numeric).max():.1e}")

# %% [markdown]
# How much faster is the matrix product? The demo times the loops of section 4 against
# your `conv2d_forward` on 16 images of $32\times32$ pixels, and checks that they agree.

# %% tags=["demo"]
import time
import timeit

xb = rng.normal(size=(16, 8, 32, 32))
wb = rng.normal(size=(16, 8, 3, 3))
bb = rng.normal(size=16)
slow = conv2d_forward_loops(xb, wb, bb, padding=1)
fast = conv(xb, wb, bb, padding=1)
print("same result:", np.allclose(slow, fast))
# the best of 5 runs of each: other programs on the machine only ever add time
t_loops = min(timeit.repeat(lambda: conv2d_forward_loops(xb, wb, bb, padding=1),
                            number=1, repeat=5))
t_cols = min(timeit.repeat(lambda: conv(xb, wb, bb, padding=1), number=1, repeat=5))
print(f"16 images 8x32x32 -> 16 channels: loops {t_loops * 1e3:.1f} ms, "
      f"im2col {t_cols * 1e3:.2f} ms ({t_loops / t_cols:.0f}x faster on this machine)")

# %% [markdown]
# ## 7. Pooling and flatten
#
# A **pooling** layer (池化层) summarises each window of each channel separately, with
# no weights: **max pooling** keeps the largest value (the strongest response),
# **average pooling** (平均池化) the mean, and **global average pooling** (全局平均池化)
# averages a whole feature map to one number, often just before the classifier. The
# usual $2\times2$ max pool with stride 2 halves the height and the width, which cuts
# the computation of later layers by 4 and makes their receptive fields grow. By
# default the stride equals the window size (as in torch), so windows do not overlap:
#
# $$\text{out}[n, c, i, j] = \max_{0\le k<K,\ 0\le l<K} x[n, c,\ Si+k,\ Sj+l].$$
#
# **Backward.** The maximum passes the gradient to the one input that won, and zero
# to the others: $\partial L/\partial x$ is $\delta[n,c,i,j]$ at the argmax (最大值位置)
# of window $(i, j)$ and 0 elsewhere. With **ties** only *one* element gets it: the
# first maximum in row-major order (行优先), as torch does. When windows overlap
# (stride < kernel), an input that is the maximum of several windows receives the sum.

# %% [markdown]
# ### Exercise 7.1 — `max_pool2d_forward`
# Return the max pooling of `x` `(N, C, H, W)` with a square window `kernel_size` and
# the given `stride`; `stride=None` means `stride = kernel_size`. No padding. Output
# shape `(N, C, OH, OW)` with the formula of section 3. A loop over the output positions
# is fine here: a pooling layer has no matrix product to hand the work to.

# %% nbgrader={"grade_id": "max_pool2d_forward", "solution": true}
def max_pool2d_forward(x, kernel_size, stride=None):
    """Max over each kernel_size x kernel_size window, per channel."""
    ### BEGIN SOLUTION
    x = np.asarray(x, dtype=float)
    k = kernel_size
    s = k if stride is None else stride
    n, c, h, w = x.shape
    oh, ow = (h - k) // s + 1, (w - k) // s + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            out[:, :, i, j] = x[:, :, i * s:i * s + k, j * s:j * s + k].max(axis=(2, 3))
    return out
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_max_pool2d_forward", "grade": true, "points": 1}
_AVG = "that is average pooling; take the maximum"
_STRIDE_NONE = "stride=None must mean stride = kernel_size, not 1"
check_equal(np.shape(answer(max_pool2d_forward, np.zeros((2, 3, 8, 8)), 2)), (2, 3, 4, 4),
            "shape of max_pool2d_forward on (2, 3, 8, 8), kernel_size=2",
            mistakes={_STRIDE_NONE: (2, 3, 7, 7)})
_x = np.array([[[[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0]]]])
check_close(answer(max_pool2d_forward, _x, 2), [[[[4.0, 5.0]]]],
            "max_pool2d_forward([[1, 2, 5, 0], [3, 4, 1, 1]], kernel_size=2)",
            mistakes={_AVG: [[[[2.5, 1.75]]]]})

# %% nbgrader={"grade_id": "test_max_pool2d_forward_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
import dlnotes.cnn as _ref

_rng = np.random.default_rng(704)
for _xs, _k, _s in (((2, 3, 8, 8), 2, None), ((1, 2, 7, 7), 2, None), ((2, 1, 7, 6), 3, 2),
                    ((1, 3, 5, 5), 3, 1), ((3, 2, 6, 6), 3, None), ((1, 1, 4, 4), 1, None)):
    _x = _rng.normal(size=_xs)
    _want, _ = _ref.max_pool2d_forward(_x, _k, stride=_s)
    _label = f"max_pool2d_forward on x {_xs}, kernel_size={_k}, stride={_s}"
    _got = answer(max_pool2d_forward, _x, _k, stride=_s)
    check_equal(np.shape(_got), _want.shape, f"shape of {_label}",
                mistakes={_STRIDE_NONE: _ref.max_pool2d_forward(_x, _k, stride=1)[0].shape})
    check_close(_got, _want, _label, atol=1e-6, rtol=1e-6,
                mistakes={_AVG: _ref.avg_pool2d_forward(_x, _k, stride=_s)[0]})
### END HIDDEN TESTS

# %% [markdown]
# ### Exercise 7.2 — `max_pool2d_backward`
# Given `dout` `(N, C, OH, OW)` and the forward input `x`, `kernel_size` and `stride`,
# return `dx` of the shape of `x`: each `dout[n, c, i, j]` goes to the position of the
# maximum of window `(i, j)`, the **first** one in row-major order when there are
# ties, and contributions **add up** where windows overlap.
#
# *Hint:* `window.reshape(N, C, K * K).argmax(axis=2)` gives the row-major index of
# the first maximum; `divmod(index, K)` turns it into `(k, l)`. Or loop over `n` and
# `c` too, with `np.unravel_index(np.argmax(window), window.shape)`.

# %% nbgrader={"grade_id": "max_pool2d_backward", "solution": true}
def max_pool2d_backward(dout, x, kernel_size, stride=None):
    """Route each dout[n, c, i, j] to the first argmax of its window; add where they overlap."""
    ### BEGIN SOLUTION
    dout, x = np.asarray(dout, dtype=float), np.asarray(x, dtype=float)
    k = kernel_size
    s = k if stride is None else stride
    n, c = x.shape[:2]
    dx = np.zeros_like(x)
    nn, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            window = x[:, :, i * s:i * s + k, j * s:j * s + k].reshape(n, c, k * k)
            kk, ll = np.divmod(window.argmax(axis=2), k)
            np.add.at(dx, (nn, cc, i * s + kk, j * s + ll), dout[:, :, i, j])
    return dx
    ### END SOLUTION


# %% nbgrader={"grade_id": "test_max_pool2d_backward", "grade": true, "points": 1}
_SPREAD = ("the gradient was spread evenly over the window (average pooling's backward); "
           "it goes to the maximum only")
_TIES = ("with ties, only the first maximum (row-major order) gets the gradient, not every "
         "element equal to the max")
_POOL_OVERLAP = "dx was overwritten (=) where windows overlap; accumulate the routed gradients"
_x = np.array([[[[1.0, 2.0, 5.0, 0.0], [3.0, 4.0, 1.0, 1.0]]]])
check_close(answer(max_pool2d_backward, np.array([[[[1.0, 2.0]]]]), _x, 2),
            [[[[0.0, 0.0, 2.0, 0.0], [0.0, 1.0, 0.0, 0.0]]]],
            "max_pool2d_backward(dout=[[1, 2]], x=[[1, 2, 5, 0], [3, 4, 1, 1]], kernel_size=2)",
            mistakes={_SPREAD: [[[[0.25, 0.25, 0.5, 0.5], [0.25, 0.25, 0.5, 0.5]]]]})
# A tie: all four values equal. Only the first (top-left) gets the gradient.
check_close(answer(max_pool2d_backward, np.array([[[[1.0]]]]), np.ones((1, 1, 2, 2)), 2),
            [[[[1.0, 0.0], [0.0, 0.0]]]], "max_pool2d_backward on a 2x2 window of equal values",
            mistakes={_TIES: [[[[1.0, 1.0], [1.0, 1.0]]]]})

# %% nbgrader={"grade_id": "test_max_pool2d_backward_hidden", "grade": true, "points": 2}
### BEGIN HIDDEN TESTS
import dlnotes.cnn as _ref


def _pool_back_variant(dout, x, k, s, mode):
    """Known wrong max-pool backward passes: every tied max, or '=' instead of '+='."""
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            win = x[:, :, i * s:i * s + k, j * s:j * s + k]
            if mode == "ties":
                mask = win == win.max(axis=(2, 3), keepdims=True)
                dx[:, :, i * s:i * s + k, j * s:j * s + k] += mask * dout[:, :, i, j, None, None]
            else:
                flat = win.reshape(win.shape[0], win.shape[1], -1).argmax(axis=2)
                for a in range(x.shape[0]):
                    for b in range(x.shape[1]):
                        kk, ll = divmod(int(flat[a, b]), k)
                        dx[a, b, i * s + kk, j * s + ll] = dout[a, b, i, j]
    return dx


_rng = np.random.default_rng(705)
for _xs, _k, _s, _ties in (((2, 3, 8, 8), 2, None, False), ((2, 2, 6, 6), 2, None, True),
                           ((1, 2, 7, 7), 3, 2, False), ((2, 2, 5, 5), 3, 1, False),
                           ((1, 3, 6, 6), 3, 1, True), ((1, 1, 7, 6), 3, 2, True)):
    _x = _rng.integers(0, 3, size=_xs).astype(float) if _ties else _rng.normal(size=_xs)
    _out, _cache = _ref.max_pool2d_forward(_x, _k, stride=_s)
    _dout = _rng.normal(size=_out.shape)
    _s_eff = _k if _s is None else _s
    _label = (f"max_pool2d_backward on x {_xs}" + (" with ties" if _ties else "")
              + f", kernel_size={_k}, stride={_s}")
    _avg_cache = _ref.avg_pool2d_forward(_x, _k, stride=_s)[1]
    check_close(answer(max_pool2d_backward, _dout, _x, _k, stride=_s),
                _ref.max_pool2d_backward(_dout, _cache), _label, atol=1e-6, rtol=1e-6,
                mistakes={_TIES: _pool_back_variant(_dout, _x, _k, _s_eff, "ties"),
                          _POOL_OVERLAP: _pool_back_variant(_dout, _x, _k, _s_eff, "overwrite"),
                          _SPREAD: _ref.avg_pool2d_backward(_dout, _avg_cache)})
### END HIDDEN TESTS

# %% [markdown]
# **Flatten** (展平) reshapes each example's $(C, H, W)$ block into one row of
# $C\cdot H\cdot W$ numbers, in row-major order (`x.reshape(N, -1)`, as
# `torch.flatten(x, 1)`), so that a fully connected layer can follow. Its backward pass
# reshapes the gradient back. Pooling and flatten have no parameters.

# %% [markdown]
# ## 8. Training a small CNN on the 8×8 digits, with your layers
#
# Now your layers train a real network on scikit-learn's `load_digits` (1797 grey
# $8\times8$ images of the digits 0–9, shipped with scikit-learn), with 25% of them held
# out for testing:
#
# | layer | settings | output shape |
# |---|---|---|
# | conv1 | 16 kernels $3\times3$, padding 1, with bias | $16\times8\times8$ |
# | ReLU, max pool | $2\times2$, stride 2 | $16\times4\times4$ |
# | conv2 | 32 kernels $3\times3$, padding 1, with bias | $32\times4\times4$ |
# | ReLU, max pool | $2\times2$, stride 2 | $32\times2\times2$ |
# | flatten, linear | to 10 class scores, with bias | $10$ |
#
# The convolutions are your `conv2d_forward` and `conv2d_backward` running on your
# `im2col` and `col2im`, the pools are your `max_pool2d_forward` and
# `max_pool2d_backward` (collected in `layers` by the first line below), the softmax
# cross-entropy and its gradient are yours from Chapter 3, and the optimizer is your
# `Adam` from Chapter 5. Any of them that is not answered yet is replaced by the
# `dlnotes` reference, with one printed line saying which. ReLU and the linear layer are
# written inline.
#
# When the environment variable `CI` is set (automated test runs), the training cells
# use fewer epochs.

# %% tags=["demo"]
import os

from sklearn.model_selection import train_test_split
from tqdm.auto import tqdm

FAST = bool(os.environ.get("CI"))            # a smaller training budget on CI machines
EPOCHS = 6 if FAST else 20
BATCH, LR = 32, 3e-3
layers = mine.own(globals(), "07_cnn", ["im2col", "col2im", "conv2d_forward",
                                        "conv2d_backward", "max_pool2d_forward",
                                        "max_pool2d_backward"])
ch03 = mine.load("03_losses", ["cross_entropy", "cross_entropy_grad"])
ch05 = mine.load("05_optimizers", ["Adam"])

X_all = (digits.images / 16.0)[:, None]          # (1797, 1, 8, 8)
X_tr, X_te, y_tr, y_te = train_test_split(X_all, digits.target, test_size=0.25,
                                          random_state=0, stratify=digits.target)
mean, std = X_tr.mean(), X_tr.std()              # statistics of the training set only
X_tr, X_te = (X_tr - mean) / std, (X_te - mean) / std


def init_params(seed=0):
    """He-normal kernels and weights, zero biases; torch's layout."""
    r = np.random.default_rng(seed)
    return {"w1": r.normal(0, np.sqrt(2 / 9), (16, 1, 3, 3)), "b1": np.zeros(16),
            "w2": r.normal(0, np.sqrt(2 / (16 * 9)), (32, 16, 3, 3)), "b2": np.zeros(32),
            "w3": r.normal(0, np.sqrt(1 / 128), (10, 128)), "b3": np.zeros(10)}


def forward(P, x):
    """conv-relu-pool, conv-relu-pool, flatten, linear. Returns logits and what backward needs."""
    a1 = conv(x, P["w1"], P["b1"], padding=1)
    r1 = np.maximum(a1, 0)
    p1 = layers.max_pool2d_forward(r1, 2)
    a2 = conv(p1, P["w2"], P["b2"], padding=1)
    r2 = np.maximum(a2, 0)
    p2 = layers.max_pool2d_forward(r2, 2)
    f = p2.reshape(len(x), -1)
    return f @ P["w3"].T + P["b3"], (x, a1, r1, p1, a2, r2, p2, f)


def backward(P, dz, cache):
    """Gradients of every parameter, in the order of P, from dL/dlogits."""
    x, a1, r1, p1, a2, r2, p2, f = cache
    g = {"w3": dz.T @ f, "b3": dz.sum(axis=0)}
    dp2 = (dz @ P["w3"]).reshape(p2.shape)
    da2 = layers.max_pool2d_backward(dp2, r2, 2) * (a2 > 0)
    dp1, g["w2"], g["b2"] = conv_grads(da2, p1, P["w2"], padding=1)
    da1 = layers.max_pool2d_backward(dp1, r1, 2) * (a1 > 0)
    _, g["w1"], g["b1"] = conv_grads(da1, x, P["w1"], padding=1)
    return [g[k] for k in P]


def fit(forward, backward, params, epochs, desc, seed=1):
    """Mini-batch Adam on the training digits; returns the history of loss and accuracy."""
    opt = ch05.Adam(list(params.values()), lr=LR)
    order = np.random.default_rng(seed)
    hist = {"loss": [], "train_acc": [], "test_acc": []}
    t0 = time.perf_counter()
    for _ in tqdm(range(epochs), desc=desc):
        perm = order.permutation(len(X_tr))
        for start in range(0, len(X_tr), BATCH):
            idx = perm[start:start + BATCH]
            logits, cache = forward(params, X_tr[idx])
            opt.step(backward(params, ch03.cross_entropy_grad(logits, y_tr[idx]), cache))
        logits_tr = forward(params, X_tr)[0]
        hist["loss"].append(float(ch03.cross_entropy(logits_tr, y_tr)))
        hist["train_acc"].append(np.mean(logits_tr.argmax(1) == y_tr))
        hist["test_acc"].append(np.mean(forward(params, X_te)[0].argmax(1) == y_te))
    hist["seconds"] = time.perf_counter() - t0
    return hist


params = init_params()
init_copy = {k: v.copy() for k, v in params.items()}   # the torch twin starts from these
print("parameters:", sum(v.size for v in params.values()))
hist = fit(forward, backward, params, EPOCHS, "your CNN")
print(f"your layers: {EPOCHS} epochs in {hist['seconds']:.1f} s, test accuracy "
      f"{hist['test_acc'][-1]:.2%} on {len(y_te)} held-out digits")

# %% [markdown]
# ### The same model in torch
#
# Because your layers use torch's layout, the very same initial weights copy into
# `torch.nn.Conv2d` and `torch.nn.Linear` unchanged. Trained with `torch.optim.Adam`
# on the same mini-batches (in float32, on the GPU when there is one), the curves
# should lie on top of yours up to rounding. The cell is skipped when torch is missing.

# %% tags=["demo"]
try:
    import torch
except ImportError:
    torch = None
hist_t = None
if torch is not None:
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu":
        torch.set_num_threads(1)   # tiny tensors: extra threads cost more than they save
    nn = torch.nn
    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(128, 10))
    with torch.no_grad():
        for layer, (wk, bk) in zip((model[0], model[3], model[7]),
                                   (("w1", "b1"), ("w2", "b2"), ("w3", "b3")), strict=True):
            layer.weight.copy_(torch.as_tensor(init_copy[wk]))
            layer.bias.copy_(torch.as_tensor(init_copy[bk]))
    model = model.to(device)
    Xt_tr = torch.tensor(X_tr, dtype=torch.float32, device=device)
    Xt_te = torch.tensor(X_te, dtype=torch.float32, device=device)
    yt_tr = torch.tensor(y_tr, device=device)
    yt_te = torch.tensor(y_te, device=device)
    opt_t = torch.optim.Adam(model.parameters(), lr=LR)
    order_t = np.random.default_rng(1)                  # the same mini-batches as fit()
    hist_t = {"loss": [], "train_acc": [], "test_acc": []}
    for _ in tqdm(range(EPOCHS), desc=f"torch CNN on {device}"):
        perm = torch.as_tensor(order_t.permutation(len(X_tr)), device=device)
        for start in range(0, len(X_tr), BATCH):
            idx = perm[start:start + BATCH]
            opt_t.zero_grad()
            nn.functional.cross_entropy(model(Xt_tr[idx]), yt_tr[idx]).backward()
            opt_t.step()
        with torch.no_grad():
            out_tr = model(Xt_tr)
            hist_t["loss"].append(nn.functional.cross_entropy(out_tr, yt_tr).item())
            hist_t["train_acc"].append((out_tr.argmax(1) == yt_tr).float().mean().item())
            hist_t["test_acc"].append((model(Xt_te).argmax(1) == yt_te).float().mean().item())
    print(f"torch on {device}: test accuracy {hist_t['test_acc'][-1]:.2%}")

# %% tags=["demo"]
epochs = np.arange(1, EPOCHS + 1)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
ax1.semilogy(epochs, hist["loss"], "o-", label="your layers (numpy)")
ax2.plot(epochs, hist["train_acc"], "o-", label="yours, train")
ax2.plot(epochs, hist["test_acc"], "s-", label="yours, test")
if hist_t is not None:
    ax1.semilogy(epochs, hist_t["loss"], "x--", label=f"torch ({device})")
    ax2.plot(epochs, hist_t["test_acc"], "x--", label=f"torch ({device}), test")
ax1.set(xlabel="epoch", ylabel="training cross-entropy", title="Loss")
ax2.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0.8, 1.005))
ax2.axhline(0.97, color="k", lw=0.5, ls=":")
ax1.legend()
ax2.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# ### What did the network learn?
#
# The first row shows the 16 learned $3\times3$ kernels of conv1. Below, a test digit
# and its 16 feature maps after conv1 and ReLU (bright = strong response), and the same
# for a second digit. Many kernels respond to edges or strokes of one orientation.

# %% tags=["demo"]
feats = np.maximum(conv(X_te[:2], params["w1"], params["b1"], padding=1), 0)
fig, axes = plt.subplots(3, 17, figsize=(15, 3.2))
for ax in axes.ravel():
    ax.axis("off")
axes[0, 0].text(0.5, 0.5, "kernels", ha="center", va="center")
for row in (1, 2):
    axes[row, 0].imshow(X_te[row - 1, 0], cmap="gray")
    axes[row, 0].set_title(f"digit {y_te[row - 1]}", fontsize=8)
for c in range(16):
    kern = params["w1"][c, 0]
    axes[0, c + 1].imshow(kern, cmap="RdBu_r", vmin=-np.abs(kern).max(), vmax=np.abs(kern).max())
    axes[1, c + 1].imshow(feats[0, c], cmap="magma")
    axes[2, c + 1].imshow(feats[1, c], cmap="magma")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 9. A residual block and global average pooling
#
# Two ideas shape almost every CNN since 2015.
#
# **Residual block** (残差块, ResNet). Instead of asking two layers to compute a new
# representation $H(y)$, let them compute a *change* $F(y)$ and add the input back:
#
# $$z = \mathrm{ReLU}\bigl(y + F(y)\bigr), \qquad
#   F(y) = \mathrm{conv}_b\bigl(\mathrm{ReLU}(\mathrm{conv}_a(y))\bigr),$$
#
# with "same" convolutions ($3\times3$, padding 1, as many output channels as input
# channels) so that $y$ and $F(y)$ have the same shape. In the backward pass the sum
# sends the upstream gradient $g = \partial L/\partial(y + F(y))$ down **both** paths:
#
# $$\frac{\partial L}{\partial y} = g + \Bigl(\frac{\partial F}{\partial y}\Bigr)^{\!\top} g .$$
#
# The first term, through the **skip connection** (跳跃连接), reaches $y$ unchanged
# however many blocks are stacked, so a deep stack of blocks does not make the gradient
# of its first layers vanish, and a block whose $F$ is near zero is close to the
# identity: adding blocks cannot easily make a network worse.
#
# **Global average pooling** (全局平均池化, GAP) replaces flatten: each of the $C$ feature
# maps is averaged to one number, $g[n, c] = \frac{1}{HW}\sum_{i,j} x[n, c, i, j]$, and a
# linear layer maps the $C$ averages to the class scores. Its backward pass spreads
# $\partial L/\partial g[n, c]$ evenly, $1/(HW)$ to every position. The classifier now
# has $C \cdot 10 + 10$ weights whatever the image size, and it no longer knows *where*
# a feature was, only how strongly it appeared.
#
# The demo builds the network conv1 – ReLU – max pool – residual block – GAP – linear
# from your layers, checks its gradient with finite differences and trains it like the
# CNN of section 8.

# %% tags=["demo"]
def init_res(seed=0):
    r = np.random.default_rng(seed)
    return {"w1": r.normal(0, np.sqrt(2 / 9), (16, 1, 3, 3)), "b1": np.zeros(16),
            "wa": r.normal(0, np.sqrt(2 / 144), (16, 16, 3, 3)), "ba": np.zeros(16),
            "wb": r.normal(0, 0.5 * np.sqrt(2 / 144), (16, 16, 3, 3)), "bb": np.zeros(16),
            "w3": r.normal(0, np.sqrt(1 / 16), (10, 16)), "b3": np.zeros(10)}


def res_forward(P, x):
    """conv1-relu-pool, residual block, global average pool, linear."""
    a1 = conv(x, P["w1"], P["b1"], padding=1)
    r1 = np.maximum(a1, 0)
    y = layers.max_pool2d_forward(r1, 2)                 # (N, 16, 4, 4)
    ha = conv(y, P["wa"], P["ba"], padding=1)
    h = np.maximum(ha, 0)
    s = y + conv(h, P["wb"], P["bb"], padding=1)         # y + F(y)
    z = np.maximum(s, 0)
    g = z.mean(axis=(2, 3))                              # GAP: (N, 16)
    return g @ P["w3"].T + P["b3"], (x, a1, r1, y, ha, h, s, g)


def res_backward(P, dlogits, cache):
    x, a1, r1, y, ha, h, s, g = cache
    grads = {"w3": dlogits.T @ g, "b3": dlogits.sum(axis=0)}
    dg = dlogits @ P["w3"]
    ds = np.broadcast_to(dg[:, :, None, None] / (s.shape[2] * s.shape[3]), s.shape) * (s > 0)
    dh, grads["wb"], grads["bb"] = conv_grads(ds, h, P["wb"], padding=1)
    dy, grads["wa"], grads["ba"] = conv_grads(dh * (ha > 0), y, P["wa"], padding=1)
    dy = dy + ds                                         # the skip connection
    da1 = layers.max_pool2d_backward(dy, r1, 2) * (a1 > 0)
    _, grads["w1"], grads["b1"] = conv_grads(da1, x, P["w1"], padding=1)
    return [grads[k] for k in P]


P_res = init_res()
xs, ys = X_tr[:4], y_tr[:4]
analytic = res_backward(P_res, ch03.cross_entropy_grad(res_forward(P_res, xs)[0], ys),
                        res_forward(P_res, xs)[1])
for name, grad in zip(P_res, analytic, strict=True):
    if name in ("b1", "ba", "bb"):                       # cheap, and b1 sees both paths
        def loss_of(v, name=name):
            saved, P_res[name] = P_res[name], v
            value = ch03.cross_entropy(res_forward(P_res, xs)[0], ys)
            P_res[name] = saved
            return value
        numeric = numerical_gradient(loss_of, P_res[name].copy())
        print(f"d{name}: max |analytic - numerical| = {np.abs(grad - numeric).max():.1e}")

EPOCHS_RES = EPOCHS
print("parameters:", sum(v.size for v in P_res.values()), "(the CNN of section 8 has",
      sum(v.size for v in params.values()), end=")\n")
hist_res = fit(res_forward, res_backward, P_res, EPOCHS_RES, "residual + GAP")
print(f"residual block + GAP: {EPOCHS_RES} epochs, test accuracy {hist_res['test_acc'][-1]:.2%}")

# %% [markdown]
# ## 10. Equivariant, not invariant
#
# Back to the pitfall of section 1. How much does weight sharing buy when the input
# moves? The demo trains a multilayer perceptron (64 → 64 → 10, ReLU, about as many
# parameters as the CNN) on the same digits, then evaluates three models on the test
# digits shifted right by 0 to 3 pixels (blank fill): the MLP, the CNN of section 8 and
# the residual network with global average pooling of section 9.
#
# An MLP has one separate weight per input pixel: a stroke that moves by one pixel
# lands on weights that never saw it in training. A convolution moves its feature maps
# with the input (equivariance), and the max pools absorb a part of a small shift. Yet
# none of the three is invariant: on an $8\times8$ frame a shift pushes a part of the
# digit out of the picture, the pooling grid stays where it is, the borders are zero
# padding, and the classifier after flatten reads features *at positions*; averaging
# the maps (section 9) removes the last reason only. Data augmentation (数据增强) with
# shifted copies is the usual remedy.

# %% tags=["demo"]
def init_mlp(seed=0, hidden=64):
    r = np.random.default_rng(seed)
    return {"w1": r.normal(0, np.sqrt(2 / 64), (hidden, 64)), "b1": np.zeros(hidden),
            "w2": r.normal(0, np.sqrt(1 / hidden), (10, hidden)), "b2": np.zeros(10)}


def mlp_forward(P, x):
    f = x.reshape(len(x), -1)
    a = f @ P["w1"].T + P["b1"]
    h = np.maximum(a, 0)
    return h @ P["w2"].T + P["b2"], (f, a, h)


def mlp_backward(P, dz, cache):
    f, a, h = cache
    da = (dz @ P["w2"]) * (a > 0)
    grads = {"w1": da.T @ f, "b1": da.sum(axis=0), "w2": dz.T @ h, "b2": dz.sum(axis=0)}
    return [grads[k] for k in P]


P_mlp = init_mlp()
hist_mlp = fit(mlp_forward, mlp_backward, P_mlp, 20, "MLP")
print("MLP parameters:", sum(v.size for v in P_mlp.values()))

background = (0.0 - mean) / std                 # a blank pixel after standardisation
shifts = np.arange(4)
shifted_acc = {"MLP": [], "CNN (section 8)": [], "residual + GAP (section 9)": []}
for k in shifts:
    moved = np.full_like(X_te, background)
    moved[..., k:] = X_te[..., :8 - k]
    for name, (fw, P) in zip(shifted_acc, ((mlp_forward, P_mlp), (forward, params),
                                          (res_forward, P_res)), strict=True):
        shifted_acc[name].append(np.mean(fw(P, moved)[0].argmax(1) == y_te))
for name, accs in shifted_acc.items():
    print(f"{name:28s}" + "  ".join(f"shift {k}: {a:.1%}" for k, a in zip(shifts, accs,
                                                                            strict=True)))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.4),
                               gridspec_kw={"width_ratios": [1.3, 2]})
for name, accs in shifted_acc.items():
    ax1.plot(shifts, accs, "o-", label=name)
ax1.set(xlabel="shift to the right (pixels)", ylabel="test accuracy", xticks=shifts,
        title="Accuracy on shifted digits", ylim=(0, 1.02))
ax1.legend(fontsize=8)
# equivariance: conv1's map of the shifted digit is the shifted map of the digit
digit = X_te[:1]
moved = np.full_like(digit, background)
moved[..., 1:] = digit[..., :7]
maps = [np.maximum(conv(d, params["w1"], params["b1"], padding=1), 0)[0, 3]
        for d in (digit, moved)]
ax2.axis("off")
for i, (im, title) in enumerate(((digit[0, 0], "digit"), (maps[0], "a conv1 map"),
                                 (moved[0, 0], "digit shifted by 1"),
                                 (maps[1], "map of the shifted digit"))):
    sub = ax2.inset_axes([i * 0.25, 0.05, 0.23, 0.8])
    sub.imshow(im, cmap="gray" if i % 2 == 0 else "magma")
    sub.set_title(title, fontsize=8)
    sub.axis("off")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## Summary
# - A convolutional layer is a **cross-correlation**: $\text{out}[n,o,i,j] = b_o +
#   \sum_{c,k,l} w[o,c,k,l]\,x_p[n,c,Si+k,Sj+l]$; torch does not flip the kernel
#   either. It has $C_{out}C_{in}K^2 + C_{out}$ parameters whatever the image size.
# - Output size $\lfloor (H + 2P - K)/S\rfloor + 1$. Padding preserves the size and the
#   border pixels; it adds no information. Stride downsamples.
# - The receptive field grows by $(K_l - 1)\,j_{l-1}$ per layer, with the jump $j$ the
#   product of the strides below: stacks of small kernels see far with few weights.
# - im2col copies every window into a column, so a convolution is one matrix product
#   done by BLAS; col2im, its adjoint, adds the column gradients back to the pixels.
# - Backward: $\partial L/\partial W = \sum_n \delta_n\,\text{cols}_n^\top$ and
#   $\partial L/\partial b$ sum over the batch and the positions;
#   $\partial L/\partial x = \text{col2im}(W^\top\delta)$.
# - Max pooling routes the gradient to the (first) maximum of each window.
# - A residual block adds its input back, so the gradient has a path that skips the
#   block; global average pooling makes the classifier independent of the image size.
# - Convolution is translation **equivariant**; pooling adds a little invariance, and a
#   CNN keeps much more of its accuracy on shifted digits than an MLP, but neither is
#   invariant.
