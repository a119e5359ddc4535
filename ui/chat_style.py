"""The chat's look: one system font, the theme's colours, our CSS (light and dark), and the two small scripts the
page runs (bringing the latest question into view; naming the starter cards' group)."""

import gradio as gr

# One system font stack for every text on the page, as the widget and the staff pages use: nothing to download (the
# default theme's web fonts), and no glyph drawn from a second font.
FONTS = ["system-ui", "Segoe UI", "Roboto", "Noto Sans", "DejaVu Sans", "Liberation Sans", "Arial", "sans-serif"]
MONO_FONTS = ["ui-monospace", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace"]
# Blue for actions, dark enough for white text (the default orange fails contrast: 2.8:1).
THEME = gr.themes.Default(primary_hue="blue", font=FONTS, font_mono=MONO_FONTS).set(
    button_primary_background_fill="#1d4ed8",
    button_primary_background_fill_hover="#1e40af",
    button_primary_text_color="#ffffff",
    button_primary_border_color="#1d4ed8",
)
CSS = """
#chat-page { max-width: 860px; margin: 0 auto; }
#chat-page .chatbot.prose { opacity: 1 !important; }  /* Gradio dims every message to 0.8 */
/* One scroll: the conversation grows with the page instead of scrolling in a box of its own. */
#conversation { height: auto !important; max-height: none !important; overflow: visible !important;
  border-width: 0 !important; padding: 0 !important; }
#conversation .bubble-wrap { height: auto !important; max-height: none !important; overflow: visible !important; }
#ask-bar { gap: 0.25rem; }
body:not([data-chat-ready]) #conversation .examples { visibility: hidden; }
@media (max-width: 640px) {
  /* On a phone the question box stays at the bottom of the screen; the page leaves room for it under the rest. */
  #ask-bar { position: fixed; left: 0; right: 0; bottom: 0; z-index: 5; padding: 0.4rem 0.75rem 0.25rem 0.75rem;
    background: var(--body-background-fill); box-shadow: 0 -6px 8px -6px rgba(0, 0, 0, 0.25); }
  #chat-page { padding-bottom: 10rem; }
}
.inline-panel { padding: 0.75rem; border: 1px solid #d1d5db; border-radius: 8px; background: #ffffff; color: #111827; }
#chat-page h1 { font-size: clamp(1.2rem, 0.9rem + 1.5vw, 1.6rem) !important; margin-bottom: 0.25rem !important; }
#chat-page .intro { font-size: clamp(0.9rem, 0.8rem + 0.4vw, 1rem); }
.sources { margin-top: 0.6rem; padding-top: 0.4rem; border-top: 1px solid #d1d5db; font-size: 0.9rem; }
.sources .sources-title { margin: 0 0 0.3rem 0; font-weight: 600; color: #374151 !important; }
.source-card { margin: 0 0 0.45rem 0; padding: 0.35rem 0.6rem; border-left: 3px solid #1d4ed8; border-radius: 4px;
  background: #ffffff; color: #111827; }
.source-card p { margin: 0; }
.source-card strong, .source-card .source-n { color: inherit !important; }
.source-card .source-section { color: #374151 !important; }
.source-card summary { cursor: pointer; color: #1d4ed8; }
.source-card blockquote { margin: 0.3rem 0 0 0; padding-left: 0.6rem; border-left: 2px solid #9ca3af; color: #111827; }
.source-card a { color: #1d4ed8; text-decoration: underline; }
.source-card:target { outline: 3px solid #1d4ed8; }
button.quiet { background: none !important; border: none !important; box-shadow: none !important;
  color: #1d4ed8 !important; text-decoration: underline; font-weight: 400 !important; white-space: nowrap;
  width: auto !important; padding: 0.25rem 0.5rem !important; align-self: flex-start; }
/* Dark mode (the reader's system setting): every colour of our own, not only Gradio's. One selector a rule:
   Gradio scopes custom CSS, and only a rule's first selector keeps ".dark" in front. */
.dark .inline-panel { background: #1f2937; border-color: #4b5563; color: #f3f4f6; }
.dark .sources { border-top-color: #4b5563; }
.dark .sources-title { color: #d1d5db !important; }
.dark .source-section { color: #d1d5db !important; }
.dark .source-card { background: #111827; color: #f3f4f6; border-left-color: #93c5fd; }
.dark .source-card blockquote { color: #f3f4f6; border-left-color: #6b7280; }
.dark .source-card summary { color: #93c5fd !important; }
.dark .source-card a { color: #93c5fd !important; }
.dark button.quiet { color: #93c5fd !important; }
.dark .source-card:target { outline-color: #93c5fd; }
:focus-visible { outline: 3px solid #1d4ed8 !important; outline-offset: 2px; }
.dark :focus-visible { outline-color: #93c5fd !important; }
@media (prefers-reduced-motion: reduce) { * { animation: none !important; transition: none !important; } }
"""
# The page scrolls as one: after an answer, the visitor's question is brought to the top of the screen with the
# answer under it (the Chatbot's own autoscroll only scrolls a box of its own).
SHOW_LATEST = """() => {
  const asked = [...document.querySelectorAll('#conversation .message-row.user-row')].pop();
  const calm = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  if (asked) asked.scrollIntoView({block: 'start', behavior: calm ? 'auto' : 'smooth'});
}"""
# The kept conversation arrives just after the page is drawn: until then the starter cards wait, so they do not
# flash up before the conversation they would sit in.
RESTORED = "() => { document.body.dataset.chatReady = '1'; }"
# What the page does as Gradio redraws it: the starter cards are buttons straight inside role="list" (axe:
# aria-required-children), so their group is named as one; and when the hand-off form refuses a send, focus moves
# to the first field in error, whose name, read out, carries the error shown beside it.
PAGE_SCRIPT = """() => {
  let erred = false;
  const tend = () => {
    document.querySelectorAll('#conversation .examples[role="list"]').forEach(e => {
      e.setAttribute('role', 'group'); e.setAttribute('aria-label', 'Questions to start with');
    });
    const wrong = document.querySelector(
      '#enquiry-form input.validation-error, #enquiry-form textarea.validation-error');
    if (wrong && !erred) wrong.focus();
    erred = !!wrong;
  };
  new MutationObserver(tend).observe(document.body,
    {childList: true, subtree: true, attributes: true, attributeFilter: ['class']});
  tend();
}"""
