"""fill-mask against transformers' own fill-mask pipeline on a random checkpoint saved by transformers: the
same tokens in the same order with the same probabilities, for several [MASK]s per text."""

from __future__ import annotations

import pytest
import torch

from bertkit.convert import load_pretrained
from bertkit.tasks.fill_mask import fill_mask


@pytest.mark.parametrize("cls_name", ["BertForMaskedLM", "BertForPreTraining"])
def test_fill_mask_matches_the_transformers_pipeline(hf_checkpoint, transformers, cls_name):
    cfg = dict(vocab_size=99, hidden_size=36, num_attention_heads=3, intermediate_size=37, num_hidden_layers=2,
               max_position_embeddings=40)
    hf, d = hf_checkpoint(cls_name, seed=3, **cfg)
    model, tok = load_pretrained(d)
    texts = ["tok5 [MASK] tok7 tok9", "[MASK] tok12 [MASK] tok3 tok40 tok41"]
    ours = fill_mask(model, tok, texts, top_k=4)
    mlm = hf if cls_name == "BertForMaskedLM" else transformers.BertForMaskedLM.from_pretrained(d)
    hf_tok = transformers.BertTokenizerFast.from_pretrained(d)
    pipe = transformers.pipeline("fill-mask", model=mlm.eval(), tokenizer=hf_tok, top_k=4, device="cpu")
    for text, preds in zip(texts, ours):
        want = pipe(text)
        want = [want] if isinstance(want[0], dict) else want  # one [MASK]: a flat list
        assert len(preds) == len(want) == text.count("[MASK]")
        for p, w in zip(preds, want):
            assert p.ids == [x["token"] for x in w]
            torch.testing.assert_close(torch.tensor(p.probabilities), torch.tensor([x["score"] for x in w]),
                                       rtol=0, atol=1e-6)


def test_a_mask_beyond_the_model_positions_is_an_error(hf_checkpoint):
    """Truncation to the model's 40 positions would drop the [MASK]: one error, not an empty answer."""
    from bertkit.utils.errors import BertkitError

    _, d = hf_checkpoint("BertForMaskedLM", seed=3, vocab_size=99, hidden_size=36, num_attention_heads=3,
                         intermediate_size=37, num_hidden_layers=2, max_position_embeddings=40)
    model, tok = load_pretrained(d)
    near = " ".join(["tok5"] * 37) + " [MASK]"  # [CLS] + 37 + [MASK] + [SEP] = 40 tokens: seen
    assert len(fill_mask(model, tok, [near])[0]) == 1
    with pytest.raises(BertkitError, match=r"text 2: 1 \[MASK\] beyond the first 40 tokens"):
        fill_mask(model, tok, [near, "tok5 " + near])
