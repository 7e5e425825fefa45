#!/usr/bin/python3
"""Reference ids for SentencePiece tokenizer.model parity, from Debian's python3-sentencepiece.

    /usr/bin/python3 tests/fixtures-gen/make_sentencepiece_fixtures.py

Trains two small models (BPE and unigram, both with byte fallback, as Llama 2 and Mistral are built) on a
multilingual corpus written here, with Llama 2's normalizer settings, and stores them with sentencepiece's own ids for the parity texts (the same
texts as make_tokenizer_fixtures.mjs, read from one of its expected.json files).
"""
import io
import json
import os

import sentencepiece as spm

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "PostTrain.Model.Tests", "Fixtures", "tokenizers", "spm")
TEXTS = json.load(open(os.path.join(OUT, "..", "llama2", "expected.json"), encoding="utf-8"))["texts"]

CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Post-training aligns a pretrained language model with human preferences.",
    "def train(model, data):\n    for batch in data:\n        loss = model(batch)\n        loss.backward()",
    "你好，世界！机器学习和自然语言处理。",
    "Привет, мир! Это тестовый корпус.",
    "Numbers like 1234, 56.78 and 9,000,000 appear in text.",
    "Reward models score answers; rejection sampling keeps the best of N.",
    "café naïve résumé façade Ångström",
    "emoji are rare in this corpus 😀 but they happen",
] * 40


def main():
    os.makedirs(OUT, exist_ok=True)
    result = {"reference": "python3-sentencepiece " + spm.__version__, "texts": TEXTS}
    for kind, vocab in (("bpe", 500), ("unigram", 400)):
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(CORPUS), model_writer=model, model_type=kind, vocab_size=vocab,
            byte_fallback=True, character_coverage=0.9995, split_digits=True, minloglevel=2,
            # Llama 2 and Mistral: no NFKC charsmap, whitespace runs kept, a dummy prefix space.
            normalization_rule_name="identity", remove_extra_whitespaces=False, add_dummy_prefix=True,
            user_defined_symbols=["<tool_call>"])
        path = os.path.join(OUT, f"{kind}.model")
        with open(path, "wb") as f:
            f.write(model.getvalue())
        sp = spm.SentencePieceProcessor(model_file=path)
        result[kind] = [sp.encode(t) for t in TEXTS]
        print(kind, sum(len(x) for x in result[kind]), "ids")
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)


if __name__ == "__main__":
    main()
