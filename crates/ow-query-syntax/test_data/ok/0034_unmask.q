fields unmask(@message) as raw | unmask | unmask @message
