"""The corpus and kt runner shared by the tokenizer peer tests (not a test itself).

English, Chinese, Japanese, Korean, code, numbers, emoji, white-space runs,
mixed newlines and tabs, control-token text; a seeded random mix of those;
a sweep over code points that exercises each pre-tokenizer class; and
run_kt, which tokenizes texts with kt_tokenize.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

SEPARATOR = "\n@@kt-peer-split@@\n"


def run_kt(kt_tokenize, model, texts, special):
    """kt's ids for each text (a list of lists); exits 1 if kt_tokenize fails."""
    with tempfile.NamedTemporaryFile("wb", suffix=".txt", delete=False) as f:
        f.write(SEPARATOR.join(texts).encode("utf-8"))
        path = f.name
    try:
        cmd = [kt_tokenize, model, path, "--split", SEPARATOR, "--check-decode"]
        if special:
            cmd.append("--parse-special")
        r = subprocess.run(cmd, capture_output=True)
        if r.returncode != 0:
            print(f"FAIL: {' '.join(cmd)} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
            sys.exit(1)
        return json.loads(r.stdout)
    finally:
        os.unlink(path)

FIXED = [
    "Hello world", " Hello World!", "Hello, world! How are you today?",
    "I'll tell you: they're here, we've seen it, she'd know, it's DON'T and I'M.",
    "The quick brown fox jumps over the lazy dog.",
    "人工智能是计算机科学的一个分支。我们今天去公园散步，天气很好！",
    "混合专家模型（MoE）在推理时只激活少量专家。",
    "日本語のテキストです。カタカナとひらがな、漢字を混ぜます。ｶﾀｶﾅ（半角）",
    "東京は日本の首都です。「こんにちは」と言いました。",
    "한국어 텍스트입니다. 안녕하세요, 만나서 반갑습니다!",
    "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
    "int main(int argc, char** argv) {\n\tfor (int i = 0; i < argc; ++i) printf(\"%s\\n\", argv[i]);\n}\n",
    '{"key": [1, 2.5, -3e10], "nested": {"a": null, "b": true}}',
    "$ ls -la | grep '^d' && echo \"done\" >> /tmp/log.txt 2>&1",
    "x += y ** 2; a->b = c::d<e>(f); s = `tpl ${v}`; r = /a+?b*/gi; ~x ^ y | z & w",
    "1234567890123456789012345678901234567890",
    "3.14159265358979 1,000,000 0.5% -42 +7 1e-9 0x1F 0b1010 v1.2.3",
    "Numbers: 7 42 123 1234 12345 123456 1234567 and 二〇二四年 and ٣٤٥ and १२३ and ①②③ and Ⅻ and ½",
    "emoji 🦙🚀🔥 👩‍💻 👍🏽 🇯🇵 ❤️ ✨ 😀😃😄 🤖",
    "   leading spaces", "trailing spaces   ", "tabs\t\tand\t\t\ttabs", "\t\n\t\n",
    "\n", "\n\n", "\n\n\n\n", "\r\n", "line1\r\nline2\rline3\nline4", " \n \n ", "a \n\n b",
    "ideographic\u3000space and nbsp\u00a0here and em\u2003space and nel\u0085",
    "multiple     spaces     between     words", "      ", " ", "",
    "Ünïcödé àccents: café naïve façade Führer smørrebrød ÿ þ ø ö ü",
    "decomposed e\u0301 and a\u0308 and n\u0303",
    "Ελληνικά κείμενο, Русский текст, Հայերեն, ქართული, עברית, العربية, हिन्दी, ไทย",
    "punctuation ... !!! ??? --- ~~~ *** ### ``` ''' \"\"\" «quoted» „low“ — – • … ‘single’ “double”",
    "Full-width: ＡＢＣ ａｂｃ １２３ ！？（）",
    "mixed中文English日本語한국어123abc",
    "URL https://example.com/path?q=1&r=2#frag and email someone@example.org",
    "<｜begin▁of▁sentence｜>You are helpful.<｜User｜>Hi<｜Assistant｜>Hello<｜end▁of▁sentence｜>",
    "<think>\nreasoning\n</think>\n\nanswer",
]


def random_corpus(seed, count):
    rng = random.Random(seed)
    pools = [
        "the of and to in is that for it as with was on be by at this",
        "我 你 他 的 是 在 有 人 这 中 大 来 上 国 个 到 说 们 为 子",
        "あ い う え お か き く け こ ア イ ウ エ オ カ キ ク ケ コ 日 本 語",
        "가 나 다 라 마 바 사 아 자 차 카 타 파 하 한 국 어",
        "0 1 2 3 4 5 6 7 8 9 10 100 1000 12345 3.5 007",
        "( ) [ ] { } < > ; : , . ! ? ' \" ` ~ @ # $ % ^ & * - + = _ / \\ |",
        "🦙 🚀 😀 👍🏽 🇺🇸 ❤️ 👩‍💻",
        "  \t \n \r\n \n\n \u3000 \u00a0",
        "café naïve ø ö ü Ελλάδα Москва",
    ]
    out = []
    for _ in range(count):
        n = rng.randint(1, 40)
        parts = []
        for _ in range(n):
            words = rng.choice(pools).split(" ")
            w = rng.choice(words) if words else ""
            if "  \t" in pools[7] and rng.random() < 0.1:
                w = rng.choice([" ", "  ", "\t", "\n", "\r\n", "\n\n", "   \n"])
            parts.append(w)
            parts.append(rng.choice(["", " ", " ", "", "\n"]))
        out.append("".join(parts))
    return out


def codepoint_sweep():
    """One string per code point, in contexts that exercise each regex."""
    strings = []
    # All of the BMP; in the supplementary planes the blocks the regexes name
    # (Deseret, Osage, Old Hungarian, Warang Citi, Adlam), emoji, and a stride.
    ranges = [(0x20, 0xD7FF, 1), (0xE000, 0xFFFD, 1), (0x10000, 0x1F2FF, 7), (0x10400, 0x104FF, 1),
              (0x10C80, 0x10CFF, 1), (0x118A0, 0x118FF, 1), (0x1E900, 0x1E95F, 1), (0x1F300, 0x1FAFF, 1)]
    for lo, hi, step in ranges:
        for cp in range(lo, hi + 1, step):
            c = chr(cp)
            strings.append(f"a{c}b {c}{c} 1{c}")
    return strings
