#!/usr/bin/env python3
"""Peer test: kt's built-in chat templates against the published Jinja ones.

Renders conversations with jinja2 (set up as Hugging Face's
apply_chat_template does: trim_blocks, lstrip_blocks, sandboxed) from the
templates in test/data/templates, and with kt_chat_render, and requires
byte-identical prompts. Exits 1 on the first difference, 77 if jinja2 or
kt_chat_render is missing.

Environment: KT_BUILD (build dir), KT_SOURCE (source dir).
"""
import os
import subprocess
import sys

SKIP = 77
SOURCE = os.environ.get("KT_SOURCE", os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("KT_BUILD", os.path.join(SOURCE, "build"))
RENDER = os.path.join(BUILD, "runtime", "chat", "kt_chat_render")
TEMPLATES = os.path.join(SOURCE, "test", "data", "templates")
BOS = "<｜begin▁of▁sentence｜>"

try:
    from jinja2.sandbox import ImmutableSandboxedEnvironment
except ImportError:
    print("SKIP: jinja2 is not installed; run scripts/setup.sh")
    sys.exit(SKIP)

# kt style -> published template and the variable that carries the thinking switch.
PAIRS = [
    ("deepseek-r1", "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B.jinja", "enable_thinking"),
    ("deepseek-v3.1", "deepseek-ai-DeepSeek-V3.1.jinja", "thinking"),
    ("llama-cpp-deepseek-r1", "llama-cpp-deepseek-r1.jinja", "enable_thinking"),
]

S, U, A = "system", "user", "assistant"
CONVERSATIONS = [
    [(U, "Hi")],
    [(S, "You are a helpful assistant."), (U, "What is 2+2?")],
    [(S, "Be brief."), (U, "What is 2+2?"), (A, "<think>\nadd\n</think>\n\n4"), (U, "And 3+3?")],
    [(U, "q1"), (A, "a1"), (U, "q2"), (A, "a2")],
    [(U, "q"), (A, "x</think>y</think>z")],
    [(S, "first"), (U, "u"), (S, "second"), (A, "reply"), (U, "u2")],
    [(U, "u"), (A, "one"), (A, "two")],
    [(U, "u"), (A, "")],
    [(U, "多语言：中文、日本語、한국어 🦙\n\tcode: `x = 1`"), (A, "<think>思考</think>回答")],
    [(S, "only a system prompt")],
    [],
]


def render_jinja(env, source, conversation, gen, thinking, thinking_var):
    template = env.from_string(source)
    messages = [{"role": r, "content": c} for r, c in conversation]
    return template.render(messages=messages, bos_token=BOS, add_generation_prompt=gen, **{thinking_var: thinking})


def render_kt(style, conversation, gen, thinking):
    cmd = [RENDER, "--style", style]
    if not gen:
        cmd.append("--no-generation-prompt")
    if not thinking:
        cmd.append("--no-thinking")
    for role, content in conversation:
        cmd += [f"--{role}", content]
    r = subprocess.run(cmd, capture_output=True)
    if r.returncode != 0:
        print(f"FAIL: {cmd} exited {r.returncode}: {r.stderr.decode(errors='replace')}")
        sys.exit(1)
    return r.stdout.decode("utf-8")


def main():
    if not os.path.exists(RENDER):
        print(f"FAIL: {RENDER} not built (build target kt_chat_render)")
        return 1
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    checked = 0
    for style, name, thinking_var in PAIRS:
        with open(os.path.join(TEMPLATES, name), encoding="utf-8") as f:
            source = f.read()
        for conversation in CONVERSATIONS:
            for gen in (True, False):
                for thinking in (True, False):
                    want = render_jinja(env, source, conversation, gen, thinking, thinking_var)
                    got = render_kt(style, conversation, gen, thinking)
                    if got != want:
                        print(f"FAIL {style} vs {name} (add_generation_prompt={gen}, thinking={thinking})")
                        print(f"  messages: {conversation}")
                        print(f"  jinja2: {want!r}")
                        print(f"  kt:     {got!r}")
                        return 1
                    checked += 1
        print(f"ok   {style} == {name}: {len(CONVERSATIONS) * 4} renders identical")
    print(f"{checked} renders identical (deepseek-v3 has no published template in test/data: not compared)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
