"""Planted mistakes for the tiny-GPT chapter: the instructor's solution, one change each."""

from planted import solution

# The instructor's answers; each mistake below changes one thing in them.
_EMBEDDING_BACKWARD = solution("10_gpt", "embedding_backward")
_GPT_BLOCK_FORWARD = solution("10_gpt", "gpt_block_forward")
_GPT_BLOCK_BACKWARD = solution("10_gpt", "gpt_block_backward")
_GENERATE = solution("10_gpt", "generate")


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
