"""Operating the LSTM inside the app: train from stored candles, register, promote.

``service`` holds the glue (database, settings, registry); ``cli`` the
``flask ml ...`` commands. The models themselves live in the top-level ``ml``
package, which knows nothing about Flask.
"""
