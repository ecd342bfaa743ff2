"""LLM instruction backends (none, file, openai, hf), sentence embedders, the instruction
cache, and the identification-accuracy command (``python -m glider.instruct.identify``)."""
