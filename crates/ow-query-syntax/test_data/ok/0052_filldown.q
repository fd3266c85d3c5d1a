filldown cpu*, mem | filldown
