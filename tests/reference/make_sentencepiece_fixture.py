#!/usr/bin/python3
"""A tiny LLaMA-style SentencePiece model plus Python's own encodings of a few probe strings.

Needs Debian's python3-sentencepiece (apt-get install python3-sentencepiece). Trains the way LLaMA's
tokenizer was trained as far as it matters for ids: BPE, byte fallback, identity normalisation,
dummy prefix, <unk>=0 <s>=1 </s>=2. Writes tests/reference/tokenizers/sentencepiece/{tokenizer.model,expected.json}.
"""
import io
import json
import os

import sentencepiece as spm

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tokenizers", "sentencepiece")
CORPUS = """Federated learning trains a shared model without moving the data.
Each client fine-tunes a small language model on its private examples.
The server distills knowledge between the large model and the small models.
Low-rank adapters keep the number of trainable parameters small.
Mutual knowledge transfer improves both the server model and the client models.
""" * 20
PROBES = ["Federated learning", "The server distills knowledge.", "small models, large model",
          "unseen words: zebra 42 ünïcödé", "  two  spaces", "Hello world"]


def main():
    os.makedirs(HERE, exist_ok=True)
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(CORPUS.splitlines()), model_writer=model,
                                   model_type="bpe", vocab_size=320, byte_fallback=True,
                                   normalization_rule_name="identity", add_dummy_prefix=True,
                                   unk_id=0, bos_id=1, eos_id=2, pad_id=-1, character_coverage=1.0,
                                   num_threads=1, minloglevel=2)
    with open(os.path.join(HERE, "tokenizer.model"), "wb") as f:
        f.write(model.getvalue())
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    expected = {"vocab_size": sp.get_piece_size(), "bos_id": sp.bos_id(), "eos_id": sp.eos_id(),
                "probes": [{"text": t, "ids": sp.encode(t)} for t in PROBES]}
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(json.dumps(expected, ensure_ascii=False))


if __name__ == "__main__":
    main()
