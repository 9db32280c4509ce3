package sim

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"
)

// registerControl mounts the tester control routes of the gateway.
func (g *Gateway) registerControl(e *echo.Echo) {
	e.POST("/sim/v1/cards", g.handleAddCard)
	e.GET("/sim/v1/cards", g.handleCards)
	e.GET("/sim/v1/cards/:token", g.handleCard)
	e.PATCH("/sim/v1/cards/:token", g.handleUpdateCard)
	e.GET("/sim/v1/charges", g.handleCharges)
	e.GET("/sim/v1/charges/received", g.handleReceived)
}

func (g *Gateway) handleAddCard(ec echo.Context) error {
	var c Card
	if err := decodeJSON(ec, &c); err != nil {
		return writeControlError(ec, errors.New("sim: invalid JSON body"))
	}
	out, err := g.AddCard(c)
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusCreated, out)
}

func (g *Gateway) handleCards(ec echo.Context) error {
	return ec.JSON(http.StatusOK, g.Cards())
}

func (g *Gateway) handleCard(ec echo.Context) error {
	c, err := g.Card(ec.Param("token"))
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, c)
}

func (g *Gateway) handleUpdateCard(ec echo.Context) error {
	var p CardPatch
	if err := decodeJSON(ec, &p); err != nil {
		return writeControlError(ec, errors.New("sim: invalid JSON body"))
	}
	c, err := g.UpdateCard(ec.Param("token"), p)
	if err != nil {
		return writeControlError(ec, err)
	}
	return ec.JSON(http.StatusOK, c)
}

func (g *Gateway) handleCharges(ec echo.Context) error {
	return ec.JSON(http.StatusOK, g.Charges())
}
