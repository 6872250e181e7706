"""Planted mistakes for the Transformer chapter."""

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
        "fails": ["test_causal_mask", "test_causal_mask_hidden"],
        "feedback": "the diagonal must be True",
    },
    {
        "name": "causal mask in the blocked convention",
        "cell": "causal_mask",
        "source": '''def causal_mask(T):
    return np.triu(np.ones((T, T), dtype=bool), 1)
''',
        "fails": ["test_causal_mask", "test_causal_mask_hidden"],
        "feedback": "blocked-mask convention",
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
        "name": "split_heads without the transpose",
        "cell": "split_heads",
        "source": '''def split_heads(x, num_heads):
    B, L, E = np.shape(x)
    return np.asarray(x).reshape(B, num_heads, L, E // num_heads)
''',
        "fails": ["test_split_heads", "test_split_heads_hidden"],
        "feedback": "reshape to (B, L, H, d) first",
    },
    {
        "name": "merge_heads without the transpose",
        "cell": "merge_heads",
        "source": '''def merge_heads(x):
    B, H, L, d = np.shape(x)
    return np.asarray(x).reshape(B, L, H * d)
''',
        "fails": ["test_merge_heads", "test_merge_heads_hidden"],
        "feedback": "swap H and L first",
    },
    {
        "name": "encoder block without the output projection W_O",
        "cell": "encoder_block_forward",
        "source": '''def encoder_block_forward(x, params, num_heads, mask=None):
    x = np.asarray(x, dtype=float)
    E = x.shape[-1]
    w_in, b_in = params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"]
    q = given_split_heads(x @ w_in[:E].T + b_in[:E], num_heads)
    k = given_split_heads(x @ w_in[E:2 * E].T + b_in[E:2 * E], num_heads)
    v = given_split_heads(x @ w_in[2 * E:].T + b_in[2 * E:], num_heads)
    heads, _ = given_attention(q, k, v, mask)
    h = given_layer_norm(x + given_merge_heads(heads), params["norm1.weight"],
                         params["norm1.bias"])
    z = np.maximum(h @ params["linear1.weight"].T + params["linear1.bias"], 0.0)
    f = z @ params["linear2.weight"].T + params["linear2.bias"]
    return given_layer_norm(h + f, params["norm2.weight"], params["norm2.bias"])
''',
        "fails": ["test_encoder_block_forward_hidden"],
        "feedback": "the output projection W_O is missing",
    },
    {
        "name": "pre-norm encoder block",
        "cell": "encoder_block_forward",
        "source": '''def encoder_block_forward(x, params, num_heads, mask=None):
    x = np.asarray(x, dtype=float)
    E = x.shape[-1]
    w_in, b_in = params["self_attn.in_proj_weight"], params["self_attn.in_proj_bias"]
    n = given_layer_norm(x, params["norm1.weight"], params["norm1.bias"])
    q = given_split_heads(n @ w_in[:E].T + b_in[:E], num_heads)
    k = given_split_heads(n @ w_in[E:2 * E].T + b_in[E:2 * E], num_heads)
    v = given_split_heads(n @ w_in[2 * E:].T + b_in[2 * E:], num_heads)
    heads, _ = given_attention(q, k, v, mask)
    h = x + given_merge_heads(heads) @ params["self_attn.out_proj.weight"].T \\
        + params["self_attn.out_proj.bias"]
    n = given_layer_norm(h, params["norm2.weight"], params["norm2.bias"])
    z = np.maximum(n @ params["linear1.weight"].T + params["linear1.bias"], 0.0)
    return h + z @ params["linear2.weight"].T + params["linear2.bias"]
''',
        "fails": ["test_encoder_block_forward", "test_encoder_block_forward_hidden"],
        "feedback": "post-norm ends in a LayerNorm",
    },
    {
        "name": "encoder block delegated to the reference",
        "cell": "encoder_block_forward",
        "source": '''def encoder_block_forward(x, params, num_heads, mask=None):
    from dlnotes import attention
    return attention.encoder_block_forward(x, params, mask, num_heads=num_heads)[0]
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
