"""Planted mistakes for the tiny-GPT chapter.

Each wrong answer is the instructor's solution with one change (asserted to apply).
"""
_EMBEDDING_BACKWARD = '''def embedding_backward(dout, ids, vocab_size):
    dW = np.zeros((vocab_size, dout.shape[-1]), dtype=dout.dtype)
    np.add.at(dW, np.asarray(ids).reshape(-1), dout.reshape(-1, dout.shape[-1]))
    return dW
'''
_GPT_BLOCK_FORWARD = '''from scipy.special import erf


def gpt_block_forward(x, params):
    B, L, E = x.shape
    H = params["num_heads"]
    d = E // H

    def layer_norm(a, gamma, beta):
        mu = a.mean(axis=-1, keepdims=True)
        inv_std = 1.0 / np.sqrt(a.var(axis=-1, keepdims=True) + 1e-5)
        xhat = (a - mu) * inv_std
        return xhat * gamma + beta, (xhat, gamma, inv_std)

    def heads(a):                       # (B, L, E) -> (B, H, L, d)
        return a.reshape(B, L, H, d).transpose(0, 2, 1, 3)

    n1, ln1 = layer_norm(x, params["norm1.weight"], params["norm1.bias"])
    qkv = n1 @ params["self_attn.in_proj_weight"].T + params["self_attn.in_proj_bias"]
    q, k, v = heads(qkv[..., :E]), heads(qkv[..., E:2 * E]), heads(qkv[..., 2 * E:])
    scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d)
    scores = np.where(np.tril(np.ones((L, L), dtype=bool)), scores, -np.inf)
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    weights /= weights.sum(axis=-1, keepdims=True)
    concat = (weights @ v).transpose(0, 2, 1, 3).reshape(B, L, E)
    h = x + concat @ params["self_attn.out_proj.weight"].T + params["self_attn.out_proj.bias"]
    n2, ln2 = layer_norm(h, params["norm2.weight"], params["norm2.bias"])
    z = n2 @ params["linear1.weight"].T + params["linear1.bias"]
    gelu = 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))
    out = h + gelu @ params["linear2.weight"].T + params["linear2.bias"]
    cache = {"x": x, "params": params, "num_heads": H, "n1": n1, "ln1": ln1, "q": q, "k": k,
             "v": v, "weights": weights, "concat": concat, "h": h, "n2": n2, "ln2": ln2,
             "z": z}
    return out, cache
'''
_GPT_BLOCK_BACKWARD = '''from scipy.special import erf


def gpt_block_backward(dout, cache, layer_norm_backward, sdpa_backward):
    p, H, x = cache["params"], cache["num_heads"], cache["x"]
    B, L, E = x.shape
    d = E // H
    g = {}

    def linear_backward(dy, inp, name):
        W = p[name + "weight"]
        g[name + "weight"] = dy.reshape(-1, dy.shape[-1]).T @ inp.reshape(-1, inp.shape[-1])
        g[name + "bias"] = dy.reshape(-1, dy.shape[-1]).sum(axis=0)
        return dy @ W

    def heads(a):                       # (B, L, E) -> (B, H, L, d)
        return a.reshape(B, L, H, d).transpose(0, 2, 1, 3)

    def merge(a):                       # (B, H, L, d) -> (B, L, E)
        return a.transpose(0, 2, 1, 3).reshape(B, L, E)

    # MLP branch: out = h + W2 GELU(z) + b2, z = W1 n2 + b1, n2 = LN2(h)
    z = cache["z"]
    gelu = 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))
    dgelu = linear_backward(dout, gelu, "linear2.")
    phi = np.exp(-0.5 * z * z) / np.sqrt(2.0 * np.pi)
    dz = dgelu * (0.5 * (1.0 + erf(z / np.sqrt(2.0))) + z * phi)
    dn2 = linear_backward(dz, cache["n2"], "linear1.")
    dh_branch, g["norm2.weight"], g["norm2.bias"] = layer_norm_backward(dn2, cache["ln2"])
    dh = dout + dh_branch
    # attention branch: h = x + W_O concat + b_O, [q k v] = W_in n1 + b_in, n1 = LN1(x)
    dconcat = linear_backward(dh, cache["concat"], "self_attn.out_proj.")
    dq, dk, dv = sdpa_backward(heads(dconcat), cache["q"], cache["k"], cache["v"],
                               cache["weights"])
    dqkv = np.concatenate([merge(dq), merge(dk), merge(dv)], axis=-1)
    dW_in = dqkv.reshape(-1, 3 * E).T @ cache["n1"].reshape(-1, E)
    g["self_attn.in_proj_weight"] = dW_in
    g["self_attn.in_proj_bias"] = dqkv.reshape(-1, 3 * E).sum(axis=0)
    dn1 = dqkv @ p["self_attn.in_proj_weight"]
    dx_branch, g["norm1.weight"], g["norm1.bias"] = layer_norm_backward(dn1, cache["ln1"])
    return dh + dx_branch, g
'''
_GENERATE = '''def generate(step_logits, prompt_ids, steps, context, top_k, temperature, sample_fn,
             seed):
    ids = [int(i) for i in prompt_ids]
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        logits = np.array(step_logits(np.array(ids[-context:])), dtype=float)
        if top_k is not None and top_k < logits.size:
            kth = np.sort(logits)[-top_k]
            logits[logits < kth] = -np.inf
        ids.append(int(sample_fn(logits, temperature, rng)))
    return ids
'''


def _changed(source: str, old: str, new: str) -> str:
    assert source.count(old) == 1, old
    return source.replace(old, new)


MISTAKES = [
    {
        "name": "embedding gradient assigned with fancy indexing, repeated ids not accumulated",
        "cell": "embedding_backward",
        "source": _changed(_EMBEDDING_BACKWARD,
                           "    np.add.at(dW, np.asarray(ids).reshape(-1), dout.reshape(-1, "
                           "dout.shape[-1]))\n",
                           "    dW[np.asarray(ids).reshape(-1)] += dout.reshape(-1, "
                           "dout.shape[-1])\n"),
        "fails": ["test_embedding_backward", "test_embedding_backward_hidden"],
        "feedback": "the gradients of all its occurrences must be added",
    },
    {
        "name": "embedding gradient averaged over a token's occurrences",
        "cell": "embedding_backward",
        "source": _changed(_EMBEDDING_BACKWARD, "    return dW\n",
                           "    counts = np.bincount(np.asarray(ids).reshape(-1), "
                           "minlength=vocab_size)\n"
                           "    return dW / np.maximum(counts, 1)[:, None]\n"),
        "fails": ["test_embedding_backward", "test_embedding_backward_hidden"],
        "feedback": "averaged",
    },
    {
        "name": "block without the causal mask",
        "cell": "gpt_block_forward",
        "source": _changed(_GPT_BLOCK_FORWARD,
                           "    scores = np.where(np.tril(np.ones((L, L), dtype=bool)), scores, "
                           "-np.inf)\n", ""),
        "fails": ["test_gpt_block_forward", "test_gpt_block_forward_hidden"],
        "feedback": "the causal mask is missing",
    },
    {
        "name": "post-norm block instead of pre-norm",
        "cell": "gpt_block_forward",
        "source": _changed(_changed(_changed(_changed(
            _GPT_BLOCK_FORWARD,
            "    n1, ln1 = layer_norm(x, params[\"norm1.weight\"], params[\"norm1.bias\"])\n",
            "    n1, ln1 = x, None\n"),
            "    h = x + concat @ params[\"self_attn.out_proj.weight\"].T + "
            "params[\"self_attn.out_proj.bias\"]\n",
            "    h, ln1 = layer_norm(x + concat @ params[\"self_attn.out_proj.weight\"].T"
            " + params[\"self_attn.out_proj.bias\"], params[\"norm1.weight\"], "
            "params[\"norm1.bias\"])\n"),
            "    n2, ln2 = layer_norm(h, params[\"norm2.weight\"], params[\"norm2.bias\"])\n",
            "    n2, ln2 = h, None\n"),
            "    out = h + gelu @ params[\"linear2.weight\"].T + params[\"linear2.bias\"]\n",
            "    out, ln2 = layer_norm(h + gelu @ params[\"linear2.weight\"].T + "
            "params[\"linear2.bias\"], params[\"norm2.weight\"], params[\"norm2.bias\"])\n"),
        "fails": ["test_gpt_block_forward", "test_gpt_block_forward_hidden"],
        "feedback": "this is a post-norm block",
    },
    {
        "name": "ReLU in the MLP instead of GELU",
        "cell": "gpt_block_forward",
        "source": _changed(_GPT_BLOCK_FORWARD,
                           "    gelu = 0.5 * z * (1.0 + erf(z / np.sqrt(2.0)))\n",
                           "    gelu = np.maximum(z, 0.0)\n"),
        "fails": ["test_gpt_block_forward", "test_gpt_block_forward_hidden"],
        "feedback": "the MLP uses ReLU",
    },
    {
        "name": "backward keeps only the query path into n1",
        "cell": "gpt_block_backward",
        "source": _changed(_GPT_BLOCK_BACKWARD,
                           "    dqkv = np.concatenate([merge(dq), merge(dk), merge(dv)], "
                           "axis=-1)\n",
                           "    dqkv = np.concatenate([merge(dq), 0 * merge(dk), 0 * merge(dv)], "
                           "axis=-1)\n"),
        "fails": ["test_gpt_block_backward", "test_gpt_block_backward_hidden"],
        "feedback": "only the path through Q reaches n1",
    },
    {
        "name": "backward drops both residual paths",
        "cell": "gpt_block_backward",
        "source": _changed(_changed(_GPT_BLOCK_BACKWARD,
                                    "    dh = dout + dh_branch\n", "    dh = dh_branch\n"),
                           "    return dh + dx_branch, g\n", "    return dx_branch, g\n"),
        "fails": ["test_gpt_block_backward", "test_gpt_block_backward_hidden"],
        "feedback": "the residual connections do not pass the gradient straight through",
    },
    {
        "name": "a new random generator at every step",
        "cell": "generate",
        "source": _changed(_changed(_GENERATE, "    rng = np.random.default_rng(seed)\n", ""),
                           "sample_fn(logits, temperature, rng)",
                           "sample_fn(logits, temperature, np.random.default_rng(seed))"),
        "fails": ["test_generate", "test_generate_hidden"],
        "feedback": "a new generator is made at every step",
    },
    {
        "name": "top-k keeps exactly k candidates, dropping ties",
        "cell": "generate",
        "source": _changed(_changed(
            _GENERATE, "            kth = np.sort(logits)[-top_k]\n",
            "            drop = np.argsort(logits, kind=\"stable\")[:-top_k]\n"),
            "            logits[logits < kth] = -np.inf\n", "            logits[drop] = -np.inf\n"),
        "fails": ["test_generate"],
        "feedback": "a logit tied with the k-th largest",
    },
    {
        "name": "the whole text is fed to the model, not the last context ids",
        "cell": "generate",
        "source": _changed(_GENERATE, "step_logits(np.array(ids[-context:]))",
                           "step_logits(np.array(ids))"),
        "fails": ["test_generate", "test_generate_hidden"],
        "feedback": "how many ids step_logits sees at each step",
    },
]
