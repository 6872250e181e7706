"""Planted mistakes for the RNN chapter."""

MISTAKES = [
    {
        "name": "rnn_step without transposing W_hh",
        "cell": "rnn_step",
        "source": '''def rnn_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh + b_hh)
''',
        "fails": ["test_rnn_step"],
        "feedback": "h @ W_hh instead of h @ W_hh.T",
    },
    {
        "name": "rnn_step with one bias only",
        "cell": "rnn_step",
        "source": '''def rnn_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T)
''',
        "fails": ["test_rnn_step"],
        "feedback": "b_hh is missing",
    },
    {
        "name": "rnn_forward that does not carry the state",
        "cell": "rnn_forward",
        "source": '''def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    return np.stack([np.tanh(x[t] @ W_ih.T + b_ih + h0 @ W_hh.T + b_hh)
                     for t in range(x.shape[0])])
''',
        "fails": ["test_rnn_forward", "test_rnn_forward_hidden"],
        "feedback": "the state is not carried",
    },
    {
        "name": "rnn_forward returning h0 as well",
        "cell": "rnn_forward",
        "source": '''def rnn_forward(x, h0, W_ih, W_hh, b_ih, b_hh):
    hs = [h0]
    for t in range(x.shape[0]):
        hs.append(np.tanh(x[t] @ W_ih.T + b_ih + hs[-1] @ W_hh.T + b_hh))
    return np.stack(hs)
''',
        "fails": ["test_rnn_forward", "test_rnn_forward_hidden"],
        "feedback": "you included h0",
    },
    {
        "name": "BPTT without the gradient through time",
        "cell": "rnn_backward",
        "source": '''def rnn_backward(dhs, x, h0, hs, W_ih, W_hh):
    dx = np.zeros(x.shape)
    dW_ih, dW_hh, db = np.zeros(W_ih.shape), np.zeros(W_hh.shape), np.zeros(W_hh.shape[0])
    dh0 = np.zeros(h0.shape)
    for t in reversed(range(x.shape[0])):
        h_prev = hs[t - 1] if t > 0 else h0
        delta = dhs[t] * (1 - hs[t] ** 2)
        dx[t] = delta @ W_ih
        dW_ih += delta.T @ x[t]
        dW_hh += delta.T @ h_prev
        db += delta.sum(axis=0)
        dh0 = delta @ W_hh
    return dx, dh0, dW_ih, dW_hh, db
''',
        "fails": ["test_rnn_backward", "test_rnn_backward_hidden"],
        "feedback": "no gradient through time",
    },
    {
        "name": "BPTT pairing delta_t with h_t in dW_hh",
        "cell": "rnn_backward",
        "source": '''def rnn_backward(dhs, x, h0, hs, W_ih, W_hh):
    dx = np.zeros(x.shape)
    dW_ih, dW_hh, db = np.zeros(W_ih.shape), np.zeros(W_hh.shape), np.zeros(W_hh.shape[0])
    dh_next = np.zeros(h0.shape)
    for t in reversed(range(x.shape[0])):
        delta = (dhs[t] + dh_next) * (1 - hs[t] ** 2)
        dx[t] = delta @ W_ih
        dW_ih += delta.T @ x[t]
        dW_hh += delta.T @ hs[t]
        db += delta.sum(axis=0)
        dh_next = delta @ W_hh
    return dx, dh_next, dW_ih, dW_hh, db
''',
        "fails": ["test_rnn_backward", "test_rnn_backward_hidden"],
        "feedback": "it must be the previous state h_{t-1}",
    },
    {
        "name": "BPTT with W_hh transposed on the way back",
        "cell": "rnn_backward",
        "source": '''def rnn_backward(dhs, x, h0, hs, W_ih, W_hh):
    dx = np.zeros(x.shape)
    dW_ih, dW_hh, db = np.zeros(W_ih.shape), np.zeros(W_hh.shape), np.zeros(W_hh.shape[0])
    dh_next = np.zeros(h0.shape)
    for t in reversed(range(x.shape[0])):
        h_prev = hs[t - 1] if t > 0 else h0
        delta = (dhs[t] + dh_next) * (1 - hs[t] ** 2)
        dx[t] = delta @ W_ih
        dW_ih += delta.T @ x[t]
        dW_hh += delta.T @ h_prev
        db += delta.sum(axis=0)
        dh_next = delta @ W_hh.T
    return dx, dh_next, dW_ih, dW_hh, db
''',
        "fails": ["test_rnn_backward_hidden"],
        "feedback": "delta W_hh^T instead of delta W_hh",
    },
    {
        "name": "LSTM with the gates in the order i, f, o, g",
        "cell": "lstm_step_forward",
        "source": '''def lstm_step_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    c_next = f * c + i * g
    return o * np.tanh(c_next), c_next, (x_t, h, c, i, f, g, o, c_next, W_ih, W_hh)
''',
        "fails": ["test_lstm_step_forward", "test_lstm_step_forward_hidden"],
        "feedback": "gates in the wrong order",
    },
    {
        "name": "LSTM without the candidate g (three gates only)",
        "cell": "lstm_step_forward",
        "source": '''def lstm_step_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
    c_next = f * c + i
    return o * np.tanh(c_next), c_next, (x_t, h, c, i, f, i, o, c_next, W_ih, W_hh)
''',
        "fails": ["test_lstm_step_forward", "test_lstm_step_forward_hidden"],
        "feedback": "the candidate g is missing",
    },
    {
        "name": "LSTM output without the tanh of the cell",
        "cell": "lstm_step_forward",
        "source": '''def lstm_step_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
    g = np.tanh(a[:, 2 * H:3 * H])
    c_next = f * c + i * g
    return o * c_next, c_next, (x_t, h, c, i, f, g, o, c_next, W_ih, W_hh)
''',
        "fails": ["test_lstm_step_forward", "test_lstm_step_forward_hidden"],
        "feedback": "the cell state goes through a tanh first",
    },
    {
        "name": "LSTM cache holding the pre-activations instead of the gates",
        "cell": "lstm_step_forward",
        "source": '''def lstm_step_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    ai, af, ag, ao = a[:, :H], a[:, H:2 * H], a[:, 2 * H:3 * H], a[:, 3 * H:]
    c_next = sigmoid(af) * c + sigmoid(ai) * np.tanh(ag)
    h_next = sigmoid(ao) * np.tanh(c_next)
    return h_next, c_next, (x_t, h, c, ai, af, ag, ao, c_next, W_ih, W_hh)
''',
        "fails": ["test_lstm_step_forward", "test_lstm_step_forward_hidden"],
        "feedback": "store the gates after their sigmoid or tanh",
    },
    {
        "name": "LSTM delegated to the reference library",
        "cell": "lstm_step_forward",
        "source": '''def lstm_step_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    from dlnotes import rnn
    return rnn.lstm_step_forward(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
''',
        "fails": ["test_lstm_step_forward", "test_lstm_step_forward_hidden"],
        "feedback": "graded answers may not use dlnotes",
        "status": "flagged",
    },
    {
        "name": "LSTM backward without the forget gate on the path to c_prev",
        "cell": "lstm_step_backward",
        "source": '''def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, i, f, g, o, c_next, W_ih, W_hh = cache
    tc = np.tanh(c_next)
    delta_c = dc + dh * o * (1 - tc ** 2)
    da = np.concatenate([delta_c * g * i * (1 - i), delta_c * c_prev * f * (1 - f),
                         delta_c * i * (1 - g ** 2), dh * tc * o * (1 - o)], axis=1)
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, delta_c, da.T @ x, da.T @ h_prev, db, db
''',
        "fails": ["test_lstm_step_backward", "test_lstm_step_backward_hidden"],
        "feedback": "the forget gate is missing on the path to c_prev",
    },
    {
        "name": "LSTM backward without the derivative of tanh(c_next)",
        "cell": "lstm_step_backward",
        "source": '''def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, i, f, g, o, c_next, W_ih, W_hh = cache
    tc = np.tanh(c_next)
    delta_c = dc + dh * o
    da = np.concatenate([delta_c * g * i * (1 - i), delta_c * c_prev * f * (1 - f),
                         delta_c * i * (1 - g ** 2), dh * tc * o * (1 - o)], axis=1)
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, delta_c * f, da.T @ x, da.T @ h_prev, db, db
''',
        "fails": ["test_lstm_step_backward", "test_lstm_step_backward_hidden"],
        "feedback": "the derivative of tanh(c_next) is missing",
    },
    {
        "name": "LSTM backward with the gate blocks in the order i, f, o, g",
        "cell": "lstm_step_backward",
        "source": '''def lstm_step_backward(dh, dc, cache):
    x, h_prev, c_prev, i, f, g, o, c_next, W_ih, W_hh = cache
    tc = np.tanh(c_next)
    delta_c = dc + dh * o * (1 - tc ** 2)
    da = np.concatenate([delta_c * g * i * (1 - i), delta_c * c_prev * f * (1 - f),
                         dh * tc * o * (1 - o), delta_c * i * (1 - g ** 2)], axis=1)
    db = da.sum(axis=0)
    return da @ W_ih, da @ W_hh, delta_c * f, da.T @ x, da.T @ h_prev, db, db
''',
        "fails": ["test_lstm_step_backward", "test_lstm_step_backward_hidden"],
        "feedback": "gate blocks in the wrong order",
    },
    {
        "name": "GRU with the paper's reset gate",
        "cell": "gru_step",
        "source": '''def gru_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    ax = x_t @ W_ih.T + b_ih
    ah = h @ W_hh.T + b_hh
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + (r * h) @ W_hh[2 * H:].T + b_hh[2 * H:])
    return (1 - z) * n + z * h
''',
        "fails": ["test_gru_step", "test_gru_step_hidden"],
        "feedback": "reset applied to h before the product",
    },
    {
        "name": "GRU with z and 1 - z swapped",
        "cell": "gru_step",
        "source": '''def gru_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    ax = x_t @ W_ih.T + b_ih
    ah = h @ W_hh.T + b_hh
    r = sigmoid(ax[:, :H] + ah[:, :H])
    z = sigmoid(ax[:, H:2 * H] + ah[:, H:2 * H])
    n = np.tanh(ax[:, 2 * H:] + r * ah[:, 2 * H:])
    return z * n + (1 - z) * h
''',
        "fails": ["test_gru_step", "test_gru_step_hidden"],
        "feedback": "z and 1 - z swapped",
    },
    {
        "name": "memory question: gradients added along the path",
        "cell": "q_memory",
        "source": '''lstm_grad_c0 = 0.95 + 0.99 + 0.97 + 0.90 + 0.98 + 0.96
rnn_grad_h0 = ((1 - 0.5**2) * (1 - 0.8**2) * (1 - 0.9**2)
               * (1 - 0.6**2) * (1 - 0.95**2) * (1 - 0.7**2))
''',
        "fails": ["test_q_memory"],
        "feedback": "gradients along a path multiply",
    },
    {
        "name": "memory question: the output gate put on the cell path, tanh derivative 1 - h",
        "cell": "q_memory",
        "source": '''lstm_grad_c0 = ((0.95 * 0.7) * (0.99 * 0.2) * (0.97 * 0.9)
                * (0.90 * 0.5) * (0.98 * 0.4) * (0.96 * 0.6))
rnn_grad_h0 = (1 - 0.5) * (1 + 0.8) * (1 - 0.9) * (1 - 0.6) * (1 + 0.95) * (1 - 0.7)
''',
        "fails": ["test_q_memory"],
        "feedback": "the output gate is not on the path",
    },
    {
        "name": "sample_next multiplying the logits by the temperature",
        "cell": "sample_next",
        "source": '''def sample_next(logits, temperature, rng):
    z = np.asarray(logits, dtype=float)
    if temperature == 0:
        return int(np.argmax(z))
    p = np.exp((z - z.max()) * temperature)
    return int(rng.choice(z.size, p=p / p.sum()))
''',
        "fails": ["test_sample_next", "test_sample_next_hidden"],
        "feedback": "multiplied by the temperature",
    },
    {
        "name": "sample_next without subtracting the largest logit",
        "cell": "sample_next",
        "source": '''def sample_next(logits, temperature, rng):
    z = np.asarray(logits, dtype=float)
    if temperature == 0:
        return int(np.argmax(z))
    p = np.exp(z / temperature)
    return int(rng.choice(z.size, p=p / p.sum()))
''',
        "fails": ["test_sample_next", "test_sample_next_hidden"],
        "feedback": "overflows to inf",
    },
]
