"""Member Pulse dashboard (Streamlit). Reads the published marts only; nothing imports it."""
