"""The public report form: its questions and how answers become a report (questions), the guards
against abuse (guards), and the streaming reader of the submitted form and its files (upload).

The routes live in `tipline.web.routes.public_form`."""
