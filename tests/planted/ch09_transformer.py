"""Planted mistakes for the Transformer chapter."""

# Shared pieces of the planted answers: each mistake changes one step of the chapter's
# solution, so the unchanged steps are written once here.

SDPA_BACKWARD_START = '''def sdpa_backward(dout, q, k, v, weights):
    scale = 1.0 / np.sqrt(q.shape[-1])
    dv = np.swapaxes(weights, -1, -2) @ dout
    da = dout @ np.swapaxes(v, -1, -2)
'''
SOFTMAX_BACKWARD = '''    dz = weights * (da - np.sum(da * weights, axis=-1, keepdims=True))
'''

MHA_START = '''def multi_head_attention(query, key, value, num_heads, in_proj_weight, in_proj_bias,
                         out_proj_weight, out_proj_bias, mask=None):
    E = np.shape(query)[-1]
    w_q, w_k, w_v = np.split(np.asarray(in_proj_weight, dtype=float), 3)
    b_q, b_k, b_v = np.split(np.zeros(3 * E) if in_proj_bias is None
                             else np.asarray(in_proj_bias, dtype=float), 3)
'''
MHA_HEADS = '''    q = split_heads(np.asarray(query) @ w_q.T + b_q, num_heads)
    k = split_heads(np.asarray(key) @ w_k.T + b_k, num_heads)
    v = split_heads(np.asarray(value) @ w_v.T + b_v, num_heads)
'''
MASKED_SOFTMAX = '''    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    m = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(m), m, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    weights = e / np.where(total > 0, total, 1.0)
'''

BLOCK_START = '''\
def encoder_block_forward(x, params, num_heads, attention, layer_norm_forward, mask=None):
    x = np.asarray(x, dtype=float)
    w_q, w_k, w_v = np.split(params["self_attn.in_proj_weight"], 3)
    b_q, b_k, b_v = np.split(params["self_attn.in_proj_bias"], 3)
'''
BLOCK_QKV = '''    q = split_heads(x @ w_q.T + b_q, num_heads)
    k = split_heads(x @ w_k.T + b_k, num_heads)
    v = split_heads(x @ w_v.T + b_v, num_heads)
'''
BLOCK_ATTENTION = '''    heads, _ = attention(q, k, v, mask)
    a = merge_heads(heads) @ params["self_attn.out_proj.weight"].T \\
        + params["self_attn.out_proj.bias"]
'''
BLOCK_NORM1 = '''    h, _ = layer_norm_forward(x + a, params["norm1.weight"], params["norm1.bias"])
'''
BLOCK_END = '''    f = z @ params["linear2.weight"].T + params["linear2.bias"]
    return layer_norm_forward(h + f, params["norm2.weight"], params["norm2.bias"])[0]
'''
RELU = '''    z = np.maximum(h @ params["linear1.weight"].T + params["linear1.bias"], 0.0)
'''

MISTAKES = [
    {
        "name": "attention without the 1/sqrt(d) scaling",
        "cell": "scaled_dot_product_attention",
        "source": '''def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2)
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    row_max = scores.max(axis=-1, keepdims=True)
    e = np.exp(scores - np.where(np.isfinite(row_max), row_max, 0.0))
    total = e.sum(axis=-1, keepdims=True)
    w = e / np.where(total > 0, total, 1.0)
    return w @ v, w
''',
        "fails": ["test_scaled_dot_product_attention",
                  "test_scaled_dot_product_attention_hidden"],
        "feedback": "missing the 1/sqrt(d) scaling",
    },
    {
        "name": "mask applied after the softmax",
        "cell": "scaled_dot_product_attention",
        "source": '''def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    w = e / e.sum(axis=-1, keepdims=True)
    if mask is not None:
        w = np.where(mask, w, 0.0)
    return w @ v, w
''',
        "fails": ["test_scaled_dot_product_attention",
                  "test_scaled_dot_product_attention_hidden"],
        "feedback": "mask applied after the softmax",
    },
    {
        "name": "softmax over the queries axis",
        "cell": "scaled_dot_product_attention",
        "source": '''def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(scores - scores.max(axis=-2, keepdims=True))
    if mask is not None:
        e = np.where(mask, e, 0.0)
    w = e / e.sum(axis=-2, keepdims=True)
    return w @ v, w
''',
        "fails": ["test_scaled_dot_product_attention",
                  "test_scaled_dot_product_attention_hidden"],
        "feedback": "softmax over the wrong axis",
    },
    {
        "name": "masked softmax that gives NaN on a fully masked row",
        "cell": "scaled_dot_product_attention",
        "source": '''def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        scores = np.where(mask, scores, -np.inf)
    e = np.exp(scores - scores.max(axis=-1, keepdims=True))
    w = e / e.sum(axis=-1, keepdims=True)
    return w @ v, w
''',
        "fails": ["test_scaled_dot_product_attention_hidden"],
        "feedback": "a row with every key masked must give all-zero weights",
    },
    {
        "name": "attention without the max-shift",
        "cell": "scaled_dot_product_attention",
        "source": '''def scaled_dot_product_attention(q, k, v, mask=None):
    q, k, v = (np.asarray(a, dtype=float) for a in (q, k, v))
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    e = np.exp(scores)
    if mask is not None:
        e = np.where(mask, e, 0.0)
    total = e.sum(axis=-1, keepdims=True)
    w = e / np.where(total > 0, total, 1.0)
    return w @ v, w
''',
        "fails": ["test_scaled_dot_product_attention_hidden"],
        "feedback": "missing max-shift",
    },
    {
        "name": "causal mask without the diagonal",
        "cell": "causal_mask",
        "source": '''def causal_mask(T):
    return np.tril(np.ones((T, T), dtype=bool), -1)
''',
        "fails": ["test_causal_mask"],
        "feedback": "the diagonal must be True",
    },
    {
        "name": "causal mask in the blocked convention",
        "cell": "causal_mask",
        "source": '''def causal_mask(T):
    return np.triu(np.ones((T, T), dtype=bool), 1)
''',
        "fails": ["test_causal_mask"],
        "feedback": "blocked-mask convention",
    },
    {
        "name": "softmax Jacobian applied elementwise as w(1 - w)",
        "cell": "sdpa_backward",
        "source": SDPA_BACKWARD_START + '''\
    dz = da * weights * (1 - weights)
    return dz @ k * scale, np.swapaxes(dz, -1, -2) @ q * scale, dv
''',
        "fails": ["test_sdpa_backward", "test_sdpa_backward_hidden"],
        "feedback": "the softmax Jacobian is not A(1 - A) entry by entry",
    },
    {
        "name": "1/sqrt(d) forgotten in the backward pass",
        "cell": "sdpa_backward",
        "source": SDPA_BACKWARD_START + SOFTMAX_BACKWARD + '''\
    return dz @ k, np.swapaxes(dz, -1, -2) @ q, dv
''',
        "fails": ["test_sdpa_backward", "test_sdpa_backward_hidden"],
        "feedback": "the 1/sqrt(d) of the scores is missing from the backward pass",
    },
    {
        "name": "dk from the untransposed score gradient",
        "cell": "sdpa_backward",
        "source": SDPA_BACKWARD_START + SOFTMAX_BACKWARD + '''\
    return dz @ k * scale, dz @ q * scale, dv
''',
        "fails": ["test_sdpa_backward", "test_sdpa_backward_hidden"],
        "feedback": "dk needs the transpose of the scores",
    },
    {
        "name": "weights renormalised in the backward pass: NaN on a fully masked row",
        "cell": "sdpa_backward",
        "source": '''def sdpa_backward(dout, q, k, v, weights):
    weights = weights / np.sum(weights, axis=-1, keepdims=True)
''' + SDPA_BACKWARD_START.split("\n", 1)[1] + SOFTMAX_BACKWARD + '''\
    return dz @ k * scale, np.swapaxes(dz, -1, -2) @ q * scale, dv
''',
        "fails": ["test_sdpa_backward", "test_sdpa_backward_hidden"],
        "feedback": "nothing may divide by its sum (0/0 is NaN)",
    },
    {
        "name": "sdpa_backward delegated to the reference",
        "cell": "sdpa_backward",
        "source": '''def sdpa_backward(dout, q, k, v, weights):
    from dlnotes import attention
    return attention.sdpa_backward(dout, q, k, v, weights)
''',
        "fails": ["test_sdpa_backward", "test_sdpa_backward_hidden"],
        "feedback": "graded answers may not use dlnotes",
        "status": "flagged",
    },
    {
        "name": "multi-head attention without W_O",
        "cell": "multi_head_attention",
        "source": MHA_START + MHA_HEADS + '''\
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
''' + MASKED_SOFTMAX + '''\
    return merge_heads(weights @ v), weights
''',
        "fails": ["test_multi_head_attention", "test_multi_head_attention_hidden"],
        "feedback": "the output projection W_O is missing",
    },
    {
        "name": "multi-head attention without splitting the heads",
        "cell": "multi_head_attention",
        "source": MHA_START + '''\
    q = np.asarray(query) @ w_q.T + b_q
    k = np.asarray(key) @ w_k.T + b_k
    v = np.asarray(value) @ w_v.T + b_v
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None and np.ndim(mask) == 4:
        mask = mask[:, 0]
''' + MASKED_SOFTMAX + '''\
    return (weights @ v) @ np.asarray(out_proj_weight).T + out_proj_bias, weights
''',
        "fails": ["test_multi_head_attention", "test_multi_head_attention_hidden"],
        "feedback": "the heads were not split",
    },
    {
        "name": "multi-head attention scaled by sqrt(E) instead of the head width",
        "cell": "multi_head_attention",
        "source": MHA_START + MHA_HEADS + '''\
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(E)
''' + MASKED_SOFTMAX + '''\
    out = merge_heads(weights @ v) @ np.asarray(out_proj_weight).T
    return (out if out_proj_bias is None else out + out_proj_bias), weights
''',
        "fails": ["test_multi_head_attention", "test_multi_head_attention_hidden"],
        "feedback": "scaled by sqrt(E)",
    },
    {
        "name": "positional encoding with sine and cosine swapped",
        "cell": "sinusoidal_positional_encoding",
        "source": '''def sinusoidal_positional_encoding(seq_len, d_model):
    pos = np.arange(seq_len, dtype=float)[:, None]
    angle = pos / 10000.0 ** (np.arange(0, d_model, 2) / d_model)
    pe = np.zeros((seq_len, d_model))
    pe[:, 0::2] = np.cos(angle)
    pe[:, 1::2] = np.sin(angle[:, : d_model // 2])
    return pe
''',
        "fails": ["test_sinusoidal_positional_encoding",
                  "test_sinusoidal_positional_encoding_hidden"],
        "feedback": "sine and cosine swapped",
    },
    {
        "name": "positional encoding exponent with the column index",
        "cell": "sinusoidal_positional_encoding",
        "source": '''def sinusoidal_positional_encoding(seq_len, d_model):
    pos = np.arange(seq_len, dtype=float)[:, None]
    angle = pos / 10000.0 ** (np.arange(d_model) / d_model)
    pe = angle.copy()
    pe[:, 0::2] = np.sin(angle[:, 0::2])
    pe[:, 1::2] = np.cos(angle[:, 1::2])
    return pe
''',
        "fails": ["test_sinusoidal_positional_encoding",
                  "test_sinusoidal_positional_encoding_hidden"],
        "feedback": "the exponent uses the column index j",
    },
    {
        "name": "encoder block without the output projection W_O",
        "cell": "encoder_block_forward",
        "source": BLOCK_START + BLOCK_QKV + '''\
    heads, _ = attention(q, k, v, mask)
    a = merge_heads(heads)
''' + BLOCK_NORM1 + RELU + BLOCK_END,
        "fails": ["test_encoder_block_forward", "test_encoder_block_forward_hidden"],
        "feedback": "the output projection W_O is missing",
    },
    {
        "name": "encoder block with queries and keys swapped",
        "cell": "encoder_block_forward",
        "source": BLOCK_START + '''\
    q = split_heads(x @ w_k.T + b_k, num_heads)
    k = split_heads(x @ w_q.T + b_q, num_heads)
    v = split_heads(x @ w_v.T + b_v, num_heads)
''' + BLOCK_ATTENTION + BLOCK_NORM1 + RELU + BLOCK_END,
        "fails": ["test_encoder_block_forward", "test_encoder_block_forward_hidden"],
        "feedback": "queries and keys look swapped",
    },
    {
        "name": "encoder block without the ReLU",
        "cell": "encoder_block_forward",
        "source": BLOCK_START + BLOCK_QKV + BLOCK_ATTENTION + BLOCK_NORM1 + '''\
    z = h @ params["linear1.weight"].T + params["linear1.bias"]
''' + BLOCK_END,
        "fails": ["test_encoder_block_forward", "test_encoder_block_forward_hidden"],
        "feedback": "the ReLU between the two linear layers of the feed-forward net is missing",
    },
    {
        "name": "encoder block without splitting the heads",
        "cell": "encoder_block_forward",
        "source": BLOCK_START + '''\
    q, k, v = x @ w_q.T + b_q, x @ w_k.T + b_k, x @ w_v.T + b_v
    heads, _ = attention(q, k, v, mask)
    a = heads @ params["self_attn.out_proj.weight"].T + params["self_attn.out_proj.bias"]
''' + BLOCK_NORM1 + RELU + BLOCK_END,
        "fails": ["test_encoder_block_forward", "test_encoder_block_forward_hidden"],
        "feedback": "the heads were not split",
    },
    {
        "name": "pre-norm encoder block",
        "cell": "encoder_block_forward",
        "source": BLOCK_START + '''\
    h, _ = layer_norm_forward(x, params["norm1.weight"], params["norm1.bias"])
    q = split_heads(h @ w_q.T + b_q, num_heads)
    k = split_heads(h @ w_k.T + b_k, num_heads)
    v = split_heads(h @ w_v.T + b_v, num_heads)
''' + BLOCK_ATTENTION + '''\
    x = x + a
    h, _ = layer_norm_forward(x, params["norm2.weight"], params["norm2.bias"])
''' + RELU + '''\
    return x + z @ params["linear2.weight"].T + params["linear2.bias"]
''',
        "fails": ["test_encoder_block_forward", "test_encoder_block_forward_hidden"],
        "feedback": "this is the pre-norm block",
    },
    {
        "name": "encoder block delegated to the reference",
        "cell": "encoder_block_forward",
        "source": BLOCK_START.split("\n", 1)[0] + '''
    from dlnotes import attention as lib
    return lib.encoder_block_forward(x, params, mask, num_heads=num_heads)[0]
''',
        "fails": ["test_encoder_block_forward", "test_encoder_block_forward_hidden"],
        "feedback": "graded answers may not use dlnotes",
        "status": "flagged",
    },
    {
        "name": "parameter count without W_O",
        "cell": "q_encoder_params",
        "source": '''encoder_param_count = 3 * 512 * 512 + 3 * 512 + 2 * 512 * 2048 + 2048 + 512 \\
    + 4 * 512
''',
        "fails": ["test_q_encoder_params"],
        "feedback": "the output projection W_O (E*E + E) is missing",
    },
]
