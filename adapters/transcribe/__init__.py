"""Speech to text through an OpenAI-compatible ``/v1/audio/transcriptions`` endpoint
(OpenAI, Groq, a self-hosted faster-whisper server…): ``TRANSCRIBE_URL``."""
