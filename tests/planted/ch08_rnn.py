"""Planted mistakes for the RNN chapter."""

MISTAKES = [
    {
        "name": "rnn_step without transposing W_hh",
        "cell": "rnn_step",
        "source": '''def rnn_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh + b_hh)
''',
        "fails": ["test_rnn_step", "test_rnn_step_hidden"],
        "feedback": "h @ W_hh instead of h @ W_hh.T",
    },
    {
        "name": "rnn_step with one bias only",
        "cell": "rnn_step",
        "source": '''def rnn_step(x_t, h, W_ih, W_hh, b_ih, b_hh):
    return np.tanh(x_t @ W_ih.T + b_ih + h @ W_hh.T)
''',
        "fails": ["test_rnn_step", "test_rnn_step_hidden"],
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
        "cell": "lstm_step",
        "source": '''def lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 2 * H:3 * H])
    g = np.tanh(a[:, 3 * H:])
    c_next = f * c + i * g
    return o * np.tanh(c_next), c_next
''',
        "fails": ["test_lstm_step", "test_lstm_step_hidden"],
        "feedback": "gates in the wrong order",
    },
    {
        "name": "LSTM without the candidate g (the seed notes' three gates)",
        "cell": "lstm_step",
        "source": '''def lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
    c_next = f * c + i
    return o * np.tanh(c_next), c_next
''',
        "fails": ["test_lstm_step", "test_lstm_step_hidden"],
        "feedback": "the candidate g is missing",
    },
    {
        "name": "LSTM output without the tanh of the cell",
        "cell": "lstm_step",
        "source": '''def lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    H = h.shape[1]
    a = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
    i, f, o = sigmoid(a[:, :H]), sigmoid(a[:, H:2 * H]), sigmoid(a[:, 3 * H:])
    c_next = f * c + i * np.tanh(a[:, 2 * H:3 * H])
    return o * c_next, c_next
''',
        "fails": ["test_lstm_step", "test_lstm_step_hidden"],
        "feedback": "the cell state goes through a tanh first",
    },
    {
        "name": "LSTM delegated to the reference library",
        "cell": "lstm_step",
        "source": '''def lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh):
    from dlnotes import rnn
    return rnn.lstm_step(x_t, h, c, W_ih, W_hh, b_ih, b_hh)
''',
        "fails": ["test_lstm_step", "test_lstm_step_hidden"],
        "feedback": "graded answers may not use dlnotes",
        "status": "flagged",
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
        "name": "parameter count with one bias vector and a two-block GRU",
        "cell": "q_params",
        "source": '''lstm_params = 4 * (20 * 10 + 20 * 20 + 20)
gru_params = 2 * (20 * 10 + 20 * 20 + 2 * 20)
''',
        "fails": ["test_q_params"],
        "feedback": "torch keeps two bias vectors",
    },
]
